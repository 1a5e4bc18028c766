package rsuota.agent.report;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.agent.link.MqttLink;
import rsuota.wire.MqttEvent;
import rsuota.wire.MqttState;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;

/**
 * Publishes the retained state snapshot: every heartbeat interval, right after each transition
 * event, and on every (re)connect. The snapshot comes from the {@link StateSource}; the reporter
 * stamps the heartbeat time (its {@link Clock}) and the outbox's newest seq, so the controller can
 * tell from the snapshot alone whether it is missing events.
 *
 * <p>State is not queued while offline: it is a snapshot, and the next one after reconnect
 * replaces it. Publishing never blocks the caller (transitions come from the engine thread).
 */
public final class Reporter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Reporter.class);

    /** One heartbeat a minute: ~1 KiB each, ~1.4 MiB a day per box (docs/protocol.md). */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(60);

    private final MqttLink link;
    private final String deviceId;
    private final String topic;
    private final StateSource source;
    private final LongSupplier lastSeq;
    private final Clock clock;
    private final Duration interval;
    private final ScheduledExecutorService executor;
    private final AtomicBoolean queued = new AtomicBoolean();
    private final AtomicLong published = new AtomicLong();
    private volatile boolean started;

    /**
     * @param lastSeq  newest event seq, usually {@code outbox::lastSeq}
     * @param interval heartbeat period (default {@link #DEFAULT_INTERVAL})
     */
    public Reporter(MqttLink link, String deviceId, StateSource source, LongSupplier lastSeq, Clock clock, Duration interval) {
        if (interval.isZero() || interval.isNegative()) throw new IllegalArgumentException("interval must be > 0: " + interval);
        this.link = link;
        this.deviceId = deviceId;
        this.topic = Topics.state(deviceId);
        this.source = source;
        this.lastSeq = lastSeq;
        this.clock = clock;
        this.interval = interval;
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "reporter-" + deviceId);
            t.setDaemon(true);
            return t;
        });
        ex.setRemoveOnCancelPolicy(true);
        this.executor = ex;
    }

    /** Wires the reporter to an outbox: seq from it, and a snapshot after each transition it records. */
    public static Reporter forOutbox(MqttLink link, Outbox outbox, String deviceId, StateSource source, Clock clock, Duration interval) {
        Reporter r = new Reporter(link, deviceId, source, outbox::lastSeq, clock, interval);
        outbox.addListener(r::onEvent);
        return r;
    }

    public synchronized void start() {
        if (started) return;
        started = true;
        link.addConnectionListener(new MqttLink.ConnectionListener() {
            @Override
            public void connected(int window) {
                requestPublish();
            }
        });
        executor.scheduleWithFixedDelay(this::publishState, interval.toNanos(), interval.toNanos(), TimeUnit.NANOSECONDS);
        requestPublish();
    }

    /** Outbox listener: a transition is followed by a fresh snapshot. */
    public void onEvent(MqttEvent event) {
        if ("transition".equals(event.type())) requestPublish();
    }

    /** Publishes a snapshot soon; requests made while one is queued are merged. */
    public void requestPublish() {
        if (!queued.compareAndSet(false, true)) return;
        try {
            executor.execute(() -> {
                queued.set(false);
                publishState();
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            queued.set(false);
        }
    }

    /** Snapshots the broker acknowledged. */
    public long publishedCount() {
        return published.get();
    }

    private void publishState() {
        if (!link.isConnected()) return;
        MqttState s;
        try {
            s = source.snapshot();
        } catch (RuntimeException e) {
            // The engine's bug must not end the heartbeat: the next tick tries again.
            LOG.error("reporter {}: STATE_SOURCE_FAILED", deviceId, e);
            return;
        }
        MqttState stamped = new MqttState(MqttState.SCHEMA, deviceId, s.identity(), s.versions(), s.slots(), s.deployment(),
                s.lastError(), s.kpis(), clock.instant(), lastSeq.getAsLong());
        byte[] json = WireCodec.encode(stamped);
        if (json.length > WireCodec.MAX_BYTES) {
            LOG.error("reporter {}: STATE_TOO_LARGE: {} bytes exceeds {}, not published", deviceId, json.length, WireCodec.MAX_BYTES);
            return;
        }
        link.publish(topic, json, true).whenComplete((v, e) -> {
            if (e == null) {
                published.incrementAndGet();
                return;
            }
            AgentException le = AgentException.in(e, AgentError.CLIENT_ERROR);
            if (le.isTransient()) LOG.debug("reporter {}: state not published ({}), next heartbeat retries", deviceId, le.getMessage());
            else LOG.error("reporter {}: state refused: {}", deviceId, le.getMessage());
        });
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
