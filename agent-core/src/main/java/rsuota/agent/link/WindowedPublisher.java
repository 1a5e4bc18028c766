package rsuota.agent.link;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;

/**
 * The outbound side of {@link PahoMqttLink}: QoS 1 publishes on one session, each holding a slot
 * of the session's publish window (the broker's Receive Maximum) until its PUBACK or failure, so
 * Paho never throws "Too many publishes in progress". Each publish is tracked by its session and
 * timed out on the publish timeout.
 */
final class WindowedPublisher {

    /** How often a publisher waiting for a window slot re-checks that its connection is alive. */
    private static final long WINDOW_POLL_MILLIS = 50;
    /** Paho's "Too many publishes in progress": should not happen with our window, retried if it does. */
    private static final int PAHO_MAX_INFLIGHT = MqttClientException.REASON_CODE_MAX_INFLIGHT;
    private static final int MAX_INFLIGHT_RETRIES = 100;

    private final LinkConfig config;
    private final ScheduledThreadPoolExecutor timers;

    WindowedPublisher(LinkConfig config) {
        this.config = config;
        this.timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "mqtt-timers-" + config.clientId());
            t.setDaemon(true);
            return t;
        });
        timers.setRemoveOnCancelPolicy(true);
    }

    /** Stops the publish timers; publishes still in flight are failed by their session. */
    void shutdown() {
        timers.shutdownNow();
    }

    /** Publishes on {@code s}, waiting up to the publish timeout for a window slot; see {@link MqttLink#publish}. */
    CompletableFuture<Void> publish(LinkSession s, String topic, byte[] payload, boolean retained) {
        long deadline = System.nanoTime() + config.publishTimeout().toNanos();
        try {
            while (!s.window().tryAcquire(WINDOW_POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                if (s.isLost()) return failed(AgentError.CONNECTION_LOST, "connection lost while waiting for a window slot");
                if (System.nanoTime() - deadline > 0) {
                    return failed(AgentError.PUBLISH_TIMEOUT, "no window slot within " + config.publishTimeout().toMillis() + " ms");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(AgentError.STOPPED, "interrupted while waiting for a window slot");
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) s.window().release();
        };
        s.track(f);
        long left = Math.max(1, deadline - System.nanoTime());
        ScheduledFuture<?> timer = schedule(() -> f.completeExceptionally(new AgentException(AgentError.PUBLISH_TIMEOUT,
                "no PUBACK for " + topic + " within " + config.publishTimeout().toMillis() + " ms")), left);
        f.whenComplete((v, e) -> {
            if (timer != null) timer.cancel(false);
        });
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        m.setRetained(retained);
        MqttActionListener listener = new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
                // Paho decrements its in-flight count before calling us, so releasing here keeps
                // our window and its count in step.
                release.run();
                int rc = firstReasonCode(token);
                if (rc >= PahoMqttLink.FIRST_FAILURE_REASON) {
                    f.completeExceptionally(new AgentException(AgentError.PUBLISH_REFUSED,
                            "broker refused PUBLISH to " + topic + " with reason 0x" + Integer.toHexString(rc)));
                } else {
                    f.complete(null);
                }
            }

            @Override
            public void onFailure(IMqttToken token, Throwable e) {
                release.run();
                f.completeExceptionally(new AgentException(AgentError.CONNECTION_LOST, "publish to " + topic + " failed: " + e, e));
            }
        };
        for (int attempt = 0; ; attempt++) {
            try {
                s.client.publish(topic, m, null, listener);
                return f;
            } catch (MqttException e) {
                if (e.getReasonCode() == PAHO_MAX_INFLIGHT && attempt < MAX_INFLIGHT_RETRIES && !s.isLost()) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                    continue;
                }
                release.run();
                AgentError code = s.isLost() || !s.client.isConnected()
                        ? AgentError.CONNECTION_LOST : AgentError.CLIENT_ERROR;
                f.completeExceptionally(new AgentException(code, "publish to " + topic + ": " + e, e));
                return f;
            } catch (RuntimeException e) {
                // Paho's client closed by a reconnect or stop on another thread can fail a publish from inside
                // (a NullPointerException in ClientComms.internalSend once clientState is gone): the session is
                // lost, the event stays in the outbox and is sent again on the next connection.
                release.run();
                f.completeExceptionally(new AgentException(AgentError.CONNECTION_LOST, "publish to " + topic + " on a closing client: " + e, e));
                return f;
            }
        }
    }

    /** A publish that failed before it was sent. */
    static CompletableFuture<Void> failed(AgentError code, String message) {
        return CompletableFuture.failedFuture(new AgentException(code, message));
    }

    private ScheduledFuture<?> schedule(Runnable r, long nanos) {
        try {
            return timers.schedule(r, nanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException stopping) {
            return null;
        }
    }

    private static int firstReasonCode(IMqttToken token) {
        int[] rc = token.getReasonCodes();
        return rc == null || rc.length == 0 ? 0 : rc[0];
    }
}
