package rsuota.agent.link;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.random.RandomGenerator;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;

/**
 * {@link MqttLink} on Eclipse Paho's MQTT 5 client, contained as FIELD-NOTES advises:
 * <ul>
 *   <li>{@link MemoryPersistence}: the agent's outbox is the durable store; Paho's file
 *       persistence would write one file per in-flight message into the working directory.</li>
 *   <li>Our own {@link ConnectionSupervisor} instead of Paho's automatic reconnect, and a fresh
 *       Paho client per connection ({@link PahoConnector}).</li>
 *   <li>A publish window per connection sized to the broker's Receive Maximum from the CONNACK,
 *       so Paho never throws "Too many publishes in progress" ({@link WindowedPublisher}).</li>
 *   <li>Incoming messages leave the Paho callback thread at once (a bounded queue to our inbound
 *       thread): a slow handler cannot stall PUBACK processing, and nothing we do runs inside a
 *       Paho callback ({@link PahoCallbacks}, {@link Subscriptions}).</li>
 * </ul>
 * With a presence topic, the Last Will is a retained {@code offline} and every connect publishes
 * a retained {@code online}; {@link #stop()} publishes {@code offline} itself before a clean
 * DISCONNECT (after which the broker does not send the will).
 */
public final class PahoMqttLink implements MqttLink {

    /** Logs as it always did; the split-out classes log under this name too. */
    private static final Logger LOG = LoggerFactory.getLogger(PahoMqttLink.class);

    /** Reason codes from 0x80 up are failures (MQTT 5, 2.4). */
    static final int FIRST_FAILURE_REASON = 0x80;

    private final LinkConfig config;
    private final Subscriptions subscriptions;
    private final WindowedPublisher publisher;
    private final PahoConnector connector;
    private volatile boolean started;
    private volatile boolean stopped;

    public PahoMqttLink(LinkConfig config, Clock clock) {
        this(config, clock, RandomGenerator.getDefault());
    }

    public PahoMqttLink(LinkConfig config, Clock clock, RandomGenerator random) {
        if (config.serverUri().startsWith("ssl://") && config.tls() == null) {
            throw new IllegalArgumentException("ssl:// needs TLS files (CA, client certificate, key): use LinkConfig.withTls");
        }
        this.config = config;
        this.subscriptions = new Subscriptions(config, () -> stopped);
        this.publisher = new WindowedPublisher(config);
        this.connector = new PahoConnector(config, clock, random, subscriptions, publisher);
    }

    @Override
    public synchronized void start() {
        if (started) return;
        started = true;
        subscriptions.start();
        connector.start();
    }

    @Override
    public void stop() {
        shutdown(true);
    }

    /**
     * Drops the connection without DISCONNECT and without announcing offline, and stops every
     * thread: what the broker sees when the agent is killed (it then publishes the Last Will).
     * For crash tests; the daemon uses {@link #stop()}.
     */
    public void halt() {
        shutdown(false);
    }

    private void shutdown(boolean clean) {
        synchronized (this) {
            if (stopped) return;
            stopped = true;
        }
        connector.stop(clean);
        subscriptions.stop();
        publisher.shutdown();
    }

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained) {
        if (stopped) return WindowedPublisher.failed(AgentError.STOPPED, "link stopped");
        LinkSession s = connector.current();
        if (s == null || s.isLost()) return WindowedPublisher.failed(AgentError.NOT_CONNECTED, "not connected to " + config.serverUri());
        return publisher.publish(s, topic, payload, retained);
    }

    @Override
    public void subscribe(String topicFilter, MessageHandler handler) {
        subscriptions.remember(topicFilter, handler);
        LinkSession s = connector.current();
        if (s != null && !s.isLost()) {
            try {
                subscriptions.subscribeOn(s, List.of(topicFilter));
            } catch (AgentException e) {
                // The next reconnect subscribes again; a refusal was logged with its code.
                LOG.warn("mqtt {}: subscribe {} now failed, renewed on reconnect: {}", config.clientId(), topicFilter, e.getMessage());
            }
        }
    }

    @Override
    public void addConnectionListener(ConnectionListener listener) {
        connector.addListener(listener);
    }

    @Override
    public boolean isConnected() {
        LinkSession s = connector.current();
        return s != null && !s.isLost() && s.client.isConnected();
    }

    @Override
    public int publishWindow() {
        LinkSession s = connector.current();
        return s == null || s.isLost() ? 0 : s.windowSize();
    }

    /** Messages dropped because handlers fell more than the inbound queue behind (logged each time). */
    public long inboundDropped() {
        return subscriptions.inboundDropped();
    }
}
