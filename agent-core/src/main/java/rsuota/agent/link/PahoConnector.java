package rsuota.agent.link;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.agent.link.MqttLink.ConnectionListener;
import rsuota.wire.MqttPresence;
import rsuota.wire.WireCodec;

/**
 * The connection side of {@link PahoMqttLink}: what its {@link ConnectionSupervisor} drives. One
 * attempt builds a fresh Paho client (with {@link MemoryPersistence}: the agent's outbox is the
 * durable store, and Paho's file persistence would write one file per in-flight message into the
 * working directory), connects, classifies a failure, opens the publish window at the broker's
 * Receive Maximum, resubscribes and announces presence; the end of a session says goodbye (on a
 * clean stop), closes the client and tells the connection listeners. It holds the current session.
 */
final class PahoConnector implements ConnectionSupervisor.Target {

    /** Logs as {@link PahoMqttLink}: the logger name is in every line, and operators filter on it. */
    private static final Logger LOG = LoggerFactory.getLogger(PahoMqttLink.class);

    /** MQTT 5: no Receive Maximum property in the CONNACK means 65,535. */
    private static final int DEFAULT_RECEIVE_MAXIMUM = 65_535;
    /** Time given to the offline announcement and the DISCONNECT on a clean stop. */
    private static final Duration GOODBYE = Duration.ofSeconds(2);

    private final LinkConfig config;
    private final Clock clock;
    private final Subscriptions subscriptions;
    private final WindowedPublisher publisher;
    private final ConnectionSupervisor supervisor;
    private final List<ConnectionListener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong sessions = new AtomicLong();
    private volatile LinkSession current;
    private volatile boolean graceful = true;

    PahoConnector(LinkConfig config, Clock clock, RandomGenerator random, Subscriptions subscriptions, WindowedPublisher publisher) {
        this.config = config;
        this.clock = clock;
        this.subscriptions = subscriptions;
        this.publisher = publisher;
        this.supervisor = new ConnectionSupervisor(config.clientId(), config.backoff(), random, this);
    }

    void start() {
        supervisor.start();
    }

    /** Ends the current session and the supervisor; {@code clean}: announce offline and DISCONNECT. */
    void stop(boolean clean) {
        graceful = clean;
        supervisor.stop(config.connectTimeout().plus(GOODBYE.multipliedBy(3)));
    }

    /** The connected (and subscribed) session, or null; it may be lost already. */
    LinkSession current() {
        return current;
    }

    void addListener(ConnectionListener listener) {
        listeners.add(listener);
    }

    @Override
    public LinkSession connect() throws AgentException {
        MqttConnectionOptions options = options();
        MqttAsyncClient client;
        try {
            client = new MqttAsyncClient(config.serverUri(), config.clientId(), new MemoryPersistence());
        } catch (MqttException | IllegalArgumentException e) {
            throw new AgentException(AgentError.BAD_CONFIG, "MQTT client for " + config.serverUri() + ": " + e, e);
        }
        LinkSession s = new LinkSession(client, sessions.incrementAndGet(), supervisor::signal);
        client.setCallback(new PahoCallbacks(config.clientId(), s, subscriptions));
        IMqttToken token;
        try {
            token = client.connect(options);
            token.waitForCompletion(config.connectTimeout().toMillis() + 2000);
        } catch (MqttException e) {
            closeClient(client, false);
            throw classifyConnectFailure(e);
        }
        MqttProperties props = token.getResponseProperties();
        Integer rm = props == null ? null : props.getReceiveMaximum();
        int window = rm == null || rm <= 0 ? DEFAULT_RECEIVE_MAXIMUM : rm;
        s.open(window);
        try {
            List<String> filters = List.copyOf(subscriptions.filters());
            subscriptions.subscribeOn(s, filters);
            // Published only now, so "connected" means "subscribed" too; filters added while
            // this ran are subscribed here or by subscribe() itself, seeing current set.
            current = s;
            subscriptions.subscribeOn(s, subscriptions.filters().stream().filter(f -> !filters.contains(f)).toList());
            if (config.presenceTopic() != null) {
                publisher.publish(s, config.presenceTopic(), presence(MqttPresence.ONLINE), true)
                        .get(config.publishTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
            }
        } catch (AgentException e) {
            abandon(s, e);
            throw e;
        } catch (ExecutionException | TimeoutException e) {
            AgentException le = AgentException.in(e.getCause() != null ? e.getCause() : e, AgentError.CLIENT_ERROR);
            if (le.code() != AgentError.PUBLISH_REFUSED) {
                abandon(s, le);
                throw le;
            }
            LOG.error("mqtt {}: presence 'online' refused: {}", config.clientId(), le.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            AgentException le = new AgentException(AgentError.STOPPED, "interrupted while connecting");
            abandon(s, le);
            throw le;
        }
        LOG.info("mqtt {}: connected to {} (session {}, window {})", config.clientId(), config.serverUri(), s.number, window);
        for (ConnectionListener l : listeners) {
            try {
                l.connected(window);
            } catch (RuntimeException e) {
                LOG.error("mqtt {}: LISTENER_FAILED: connection listener threw", config.clientId(), e);
            }
        }
        return s;
    }

    private void abandon(LinkSession s, AgentException cause) {
        s.markLost(cause);
        if (current == s) current = null;
        s.failOutstanding(cause);
        closeClient(s.client, false);
    }

    @Override
    public void ended(LinkSession s, AgentException cause, boolean stopping) {
        if (stopping && graceful && !s.isLost()) {
            if (config.presenceTopic() != null) {
                try {
                    publisher.publish(s, config.presenceTopic(), presence(MqttPresence.OFFLINE), true)
                            .get(GOODBYE.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    LOG.warn("mqtt {}: presence 'offline' not confirmed on stop: {}", config.clientId(), e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            closeClient(s.client, true);
        } else {
            closeClient(s.client, false);
        }
        s.markLost(cause);
        if (current == s) current = null;
        s.failOutstanding(cause);
        for (ConnectionListener l : listeners) {
            try {
                l.disconnected(cause);
            } catch (RuntimeException e) {
                LOG.error("mqtt {}: LISTENER_FAILED: connection listener threw", config.clientId(), e);
            }
        }
    }

    private byte[] presence(String status) {
        return WireCodec.encode(new MqttPresence(MqttPresence.SCHEMA, status, clock.instant()));
    }

    /** The Last Will is sent by the broker at an unknown later time, so it carries no timestamp. */
    private static byte[] willPayload() {
        return WireCodec.encode(new MqttPresence(MqttPresence.SCHEMA, MqttPresence.OFFLINE, null));
    }

    private MqttConnectionOptions options() throws AgentException {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setServerURIs(new String[] {config.serverUri()});
        // Sessions survive short outages so QoS 1 commands queued at the broker still arrive;
        // everything else is re-sent (outbox) or retained (desired), so losing a session is safe.
        o.setCleanStart(false);
        o.setSessionExpiryInterval(config.sessionExpiry().toSeconds());
        o.setKeepAliveInterval((int) config.keepAlive().toSeconds());
        o.setConnectionTimeout((int) Math.max(1, config.connectTimeout().toSeconds()));
        o.setAutomaticReconnect(false);
        o.setMaximumPacketSize(config.maxPacketBytes());
        if (config.presenceTopic() != null) {
            MqttMessage will = new MqttMessage(willPayload());
            will.setQos(1);
            will.setRetained(true);
            o.setWill(config.presenceTopic(), will);
        }
        if (config.tls() != null) {
            // Read on every connect: a renewed certificate is picked up without a restart.
            o.setSocketFactory(config.tls().sslContext().getSocketFactory());
            o.setHttpsHostnameVerificationEnabled(true);
        }
        return o;
    }

    private AgentException classifyConnectFailure(MqttException e) {
        int rc = e.getReasonCode();
        String what = "connect to " + config.serverUri() + " as " + config.clientId() + ": ";
        switch (rc) {
            case 0x86, 0x87, 0x8A, 0x8C, 0x8D:
                return new AgentException(AgentError.NOT_AUTHORIZED, what + "broker refused with reason 0x" + Integer.toHexString(rc), e);
            case 0x84, 0x85, 0x95:
                return new AgentException(AgentError.BAD_CONFIG, what + "broker refused with reason 0x" + Integer.toHexString(rc), e);
            default:
                break;
        }
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof SSLHandshakeException) {
                return new AgentException(AgentError.TLS_FAILED, what + "TLS handshake failed: " + c.getMessage(), e);
            }
            if (c instanceof ConnectException || c instanceof NoRouteToHostException || c instanceof UnknownHostException) {
                return new AgentException(AgentError.BROKER_UNREACHABLE, what + c, e);
            }
            if (c instanceof SSLException) {
                // A reset during the handshake: usually the broker going away, sometimes a refused certificate.
                return new AgentException(AgentError.BROKER_UNREACHABLE, what + "TLS connection failed: " + c.getMessage(), e);
            }
        }
        if (rc >= PahoMqttLink.FIRST_FAILURE_REASON && rc <= 0xFF) {
            return new AgentException(AgentError.BROKER_UNREACHABLE, what + "broker refused with reason 0x" + Integer.toHexString(rc), e);
        }
        return new AgentException(AgentError.BROKER_UNREACHABLE, what + e, e);
    }

    private void closeClient(MqttAsyncClient client, boolean sendDisconnect) {
        try {
            if (client.isConnected()) {
                if (sendDisconnect) {
                    client.disconnect(GOODBYE.toMillis()).waitForCompletion(GOODBYE.toMillis() + 1000);
                } else {
                    client.disconnectForcibly(0, 1000, false);
                }
            }
        } catch (MqttException e) {
            LOG.debug("mqtt {}: disconnect: {}", config.clientId(), e.toString());
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            LOG.debug("mqtt {}: close: {}", config.clientId(), e.toString());
        }
    }
}
