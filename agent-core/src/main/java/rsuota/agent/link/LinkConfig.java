package rsuota.agent.link;

import java.time.Duration;
import java.util.Objects;
import rsuota.wire.Topics;

/**
 * How one MQTT link connects. Build with {@link #device} or {@link #controller} and the
 * {@code with*} methods.
 *
 * @param serverUri      {@code tcp://host:port} or {@code ssl://host:port}
 * @param clientId       MQTT client id (the device id for devices)
 * @param presenceTopic  retained presence topic with a Last Will of {@code offline}; null for none
 * @param tls            client certificate and private CA; null for plain TCP (tests, lab)
 * @param keepAlive      MQTT keep-alive: how fast a silently dead link (NAT timeout, cell handover) is noticed
 * @param connectTimeout TCP + TLS + CONNACK
 * @param sessionExpiry  how long the broker keeps this session (and queues QoS 1 commands) while offline
 * @param publishTimeout longest wait for a window slot plus PUBACK
 * @param backoff        reconnect delays
 * @param inboundQueue   messages buffered between the network thread and the handlers
 * @param maxPacketBytes largest packet the broker may send us; bigger ones it drops. Above
 *                       WireCodec.MAX_BYTES so that oversized messages still arrive and are
 *                       refused with a logged reason.
 */
public record LinkConfig(String serverUri, String clientId, String presenceTopic, TlsFiles tls,
                         Duration keepAlive, Duration connectTimeout, Duration sessionExpiry, Duration publishTimeout,
                         Backoff backoff, int inboundQueue, long maxPacketBytes) {

    public LinkConfig {
        Objects.requireNonNull(serverUri, "serverUri");
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(backoff, "backoff");
        if (!serverUri.startsWith("tcp://") && !serverUri.startsWith("ssl://")) {
            throw new IllegalArgumentException("serverUri must be tcp://host:port or ssl://host:port: " + serverUri);
        }
        if (inboundQueue < 1) throw new IllegalArgumentException("inboundQueue must be >= 1");
    }

    /**
     * A device link: client id = device id, presence on {@code rsu/v1/dev/{id}/presence}.
     * Defaults: keep-alive 30 s, connect timeout 10 s, session expiry 1 h, publish timeout 30 s,
     * {@link Backoff#DEFAULT}, 256 inbound messages, 256 KiB packets.
     */
    public static LinkConfig device(String serverUri, String deviceId) {
        return defaults(serverUri, deviceId, Topics.presence(deviceId));
    }

    /** A link without presence (controller, test receivers), same defaults. */
    public static LinkConfig controller(String serverUri, String clientId) {
        return defaults(serverUri, clientId, null);
    }

    private static LinkConfig defaults(String serverUri, String clientId, String presenceTopic) {
        return new LinkConfig(serverUri, clientId, presenceTopic, null,
                Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofHours(1), Duration.ofSeconds(30),
                Backoff.DEFAULT, 256, 256 * 1024);
    }

    public LinkConfig withClientId(String id) {
        return new LinkConfig(serverUri, id, presenceTopic, tls, keepAlive, connectTimeout, sessionExpiry, publishTimeout, backoff, inboundQueue, maxPacketBytes);
    }

    public LinkConfig withPresenceTopic(String topic) {
        return new LinkConfig(serverUri, clientId, topic, tls, keepAlive, connectTimeout, sessionExpiry, publishTimeout, backoff, inboundQueue, maxPacketBytes);
    }

    public LinkConfig withTls(TlsFiles files) {
        return new LinkConfig(serverUri, clientId, presenceTopic, files, keepAlive, connectTimeout, sessionExpiry, publishTimeout, backoff, inboundQueue, maxPacketBytes);
    }

    public LinkConfig withBackoff(Backoff b) {
        return new LinkConfig(serverUri, clientId, presenceTopic, tls, keepAlive, connectTimeout, sessionExpiry, publishTimeout, b, inboundQueue, maxPacketBytes);
    }

    public LinkConfig withKeepAlive(Duration d) {
        return new LinkConfig(serverUri, clientId, presenceTopic, tls, d, connectTimeout, sessionExpiry, publishTimeout, backoff, inboundQueue, maxPacketBytes);
    }

    public LinkConfig withSessionExpiry(Duration d) {
        return new LinkConfig(serverUri, clientId, presenceTopic, tls, keepAlive, connectTimeout, d, publishTimeout, backoff, inboundQueue, maxPacketBytes);
    }

    public LinkConfig withPublishTimeout(Duration d) {
        return new LinkConfig(serverUri, clientId, presenceTopic, tls, keepAlive, connectTimeout, sessionExpiry, d, backoff, inboundQueue, maxPacketBytes);
    }

    public LinkConfig withConnectTimeout(Duration d) {
        return new LinkConfig(serverUri, clientId, presenceTopic, tls, keepAlive, d, sessionExpiry, publishTimeout, backoff, inboundQueue, maxPacketBytes);
    }
}
