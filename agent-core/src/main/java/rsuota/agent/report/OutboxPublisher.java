package rsuota.agent.report;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.agent.link.MqttLink;
import rsuota.wire.Topics;

/**
 * Drains the {@link OutboxQueue} over the link on its own thread: sends batches in seq order,
 * waits for their PUBACKs, has the acknowledged prefix forgotten, and backs off after a failure.
 * Delivery is at least once: an event whose PUBACK was lost is sent again, and the receiver drops
 * duplicates by seq.
 */
final class OutboxPublisher {

    /** Logs as {@link Outbox}: the logger name is in every line, and operators filter on it. */
    private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);
    /** Longest a failed or refused batch waits before it is tried again. */
    private static final long MAX_RETRY_PAUSE_MILLIS = 60_000;

    private final OutboxConfig config;
    private final String deviceId;
    private final String topic;
    private final OutboxQueue queue;
    private final MqttLink link;
    private final Thread thread;

    OutboxPublisher(OutboxConfig config, String deviceId, OutboxQueue queue, MqttLink link) {
        this.config = config;
        this.deviceId = deviceId;
        this.topic = Topics.events(deviceId);
        this.queue = queue;
        this.link = link;
        this.thread = new Thread(this::publishLoop, "outbox-" + deviceId);
        thread.setDaemon(true);
    }

    /** Starts the thread; a reconnect of the link wakes it at once. */
    void start() {
        link.addConnectionListener(new MqttLink.ConnectionListener() {
            @Override
            public void connected(int window) {
                queue.wake();
            }
        });
        thread.start();
    }

    /** Interrupts the batch in flight and waits (a bounded time) for the thread to end; call after the queue closed. */
    void stop() {
        if (thread == Thread.currentThread()) return;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void publishLoop() {
        int failures = 0;
        while (!queue.isClosed()) {
            List<PendingEvent> batch;
            try {
                batch = queue.awaitBatch(config.batchSize(), link::isConnected);
            } catch (InterruptedException e) {
                return;
            }
            if (batch == null) return;
            List<CompletableFuture<Void>> sent = new ArrayList<>(batch.size());
            for (PendingEvent p : batch) sent.add(link.publish(topic, p.json(), false));
            int acked = 0;
            AgentException failure = null;
            try {
                for (CompletableFuture<Void> f : sent) {
                    f.get(config.ackTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    acked++;
                }
            } catch (ExecutionException e) {
                failure = AgentException.in(e.getCause(), AgentError.CLIENT_ERROR);
            } catch (TimeoutException e) {
                failure = new AgentException(AgentError.PUBLISH_TIMEOUT, "no PUBACK within " + config.ackTimeout());
            } catch (InterruptedException e) {
                return;
            }
            queue.settle(batch, acked);
            if (failure == null) {
                failures = 0;
                continue;
            }
            if (queue.isClosed()) return; // the failure is our own close interrupting the batch
            failures++;
            // Only events after the first failure are re-sent; order is kept because the next
            // batch starts at the oldest unacknowledged event.
            long pause = Math.min(MAX_RETRY_PAUSE_MILLIS, 100L << Math.min(failures, 10));
            if (failure.isTransient()) {
                LOG.info("outbox {}: {} events of a batch unconfirmed ({}), re-sending", deviceId, batch.size() - acked, failure.getMessage());
                if (failure.code() == AgentError.NOT_CONNECTED || failure.code() == AgentError.CONNECTION_LOST) pause = 0;
            } else {
                LOG.error("outbox {}: {} ({}): events stay in the outbox, retry in {} ms", deviceId, failure.code(), failure.getMessage(), pause);
            }
            queue.pause(pause);
        }
    }
}
