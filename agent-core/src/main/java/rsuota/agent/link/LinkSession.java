package rsuota.agent.link;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import rsuota.agent.AgentException;

/**
 * One MQTT connection: a fresh Paho client (with fresh memory persistence), its publish window and
 * the publishes in flight on it. A new client per connection means no Paho state (in-flight
 * counters, message ids, pending tokens) survives a reconnect: the outbox re-sends instead.
 */
final class LinkSession {

    final MqttAsyncClient client;
    final long number;
    private final Runnable onLost;
    private final AtomicReference<AgentException> lost = new AtomicReference<>();
    private final Set<CompletableFuture<Void>> outstanding = ConcurrentHashMap.newKeySet();
    private volatile Semaphore window;
    private volatile int windowSize;

    LinkSession(MqttAsyncClient client, long number, Runnable onLost) {
        this.client = client;
        this.number = number;
        this.onLost = onLost;
    }

    /** Called once the CONNACK is in: the window is the broker's Receive Maximum. */
    void open(int receiveMaximum) {
        windowSize = receiveMaximum;
        window = new Semaphore(receiveMaximum);
    }

    Semaphore window() {
        return window;
    }

    int windowSize() {
        return windowSize;
    }

    boolean isLost() {
        return lost.get() != null;
    }

    AgentException lostCause() {
        return lost.get();
    }

    /** First caller wins; wakes the supervisor. Safe on the Paho callback thread (no blocking). */
    void markLost(AgentException cause) {
        if (lost.compareAndSet(null, cause)) onLost.run();
    }

    void track(CompletableFuture<Void> publish) {
        outstanding.add(publish);
        publish.whenComplete((v, e) -> outstanding.remove(publish));
    }

    /** Publishes whose PUBACK can no longer come on this connection: their outcome is unknown. */
    void failOutstanding(AgentException cause) {
        for (CompletableFuture<Void> f : List.copyOf(outstanding)) f.completeExceptionally(cause);
    }
}
