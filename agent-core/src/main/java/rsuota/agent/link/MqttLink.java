package rsuota.agent.link;

import java.util.concurrent.CompletableFuture;
import rsuota.agent.AgentException;

/**
 * The agent's only view of MQTT: one QoS 1 connection that keeps itself up. Everything else in
 * the agent (outbox, reporter, reconciler, dispatcher) talks to this interface, so the client
 * library stays contained behind one class ({@link PahoMqttLink}) and its package-private parts.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #start()} returns at once; connecting (and reconnecting, forever, with backoff)
 *       happens in the background. The first connect is retried like any other.</li>
 *   <li>{@link #publish} completes when the broker acknowledged (PUBACK with a success code) and
 *       exceptionally with a {@link AgentException} otherwise: NOT_CONNECTED at once when there is
 *       no connection, CONNECTION_LOST when it dropped in flight (outcome unknown, re-send),
 *       PUBLISH_TIMEOUT, PUBLISH_REFUSED (fatal: the broker said no). It never fails because
 *       too many publishes are in flight: callers wait for a slot of the broker's Receive
 *       Maximum instead (up to the publish timeout).</li>
 *   <li>Subscriptions are remembered and renewed after every reconnect. Handlers run one at a
 *       time on the link's own inbound thread, in arrival order; a handler that throws is logged
 *       and does not affect the link.</li>
 *   <li>Connection listeners run on the supervisor thread after the resubscription.</li>
 * </ul>
 */
public interface MqttLink extends AutoCloseable {

    /** Receives messages of a subscribed filter. */
    @FunctionalInterface
    interface MessageHandler {
        void onMessage(String topic, byte[] payload, boolean retained);
    }

    /** Told about connection changes; defaults do nothing. */
    interface ConnectionListener {
        /** Connected, subscriptions renewed, presence announced; {@code window} = broker's Receive Maximum. */
        default void connected(int window) {}

        default void disconnected(AgentException cause) {}
    }

    void start();

    /** Announces {@code offline} (when a presence topic is configured), disconnects cleanly, stops all threads. */
    void stop();

    /** QoS 1 publish; see the class comment for how it completes. */
    CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained);

    /** Subscribes with QoS 1 now (when connected) and after every reconnect. One handler per filter. */
    void subscribe(String topicFilter, MessageHandler handler);

    void addConnectionListener(ConnectionListener listener);

    boolean isConnected();

    /** The publish window of the current connection (the broker's Receive Maximum), 0 when disconnected. */
    int publishWindow();

    @Override
    default void close() {
        stop();
    }
}
