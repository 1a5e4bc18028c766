package rsuota.agent.report;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.link.MqttLink;
import rsuota.wire.MqttEvent;
import rsuota.wire.Topics;

/**
 * The on-disk outbox of events: the production {@link EventSink}.
 *
 * <h2>Durability</h2>
 * {@link #emit} gives the event the next per-device {@code seq}, appends it as one JSON line to
 * {@code events.jsonl} and fsyncs before returning. A publisher thread sends events in seq order
 * and forgets them only when the broker's PUBACK arrived: it then moves the ack pointer
 * ({@code events.acked}, replaced atomically). Acknowledged lines are removed by rewriting the log
 * (compaction) once {@link OutboxConfig#compactEvery} of them accumulated. The seq never goes
 * back: on open it is the maximum of the ack pointer's record and the log.
 *
 * <p>After a power cut the log can end in a torn line (an emit that never returned) or in
 * garbage (blocks the file system allocated but never wrote): everything after the last complete,
 * parseable line is cut off and logged; no fsync'd event is ever lost that way, because an emit
 * returns only after its whole line is on disk. Delivery is at least once: an event whose PUBACK
 * was lost is sent again, and the receiver drops duplicates by seq.
 *
 * <h2>Bound</h2>
 * When {@link OutboxConfig#maxEvents} or {@link OutboxConfig#maxBytes} of unacknowledged events
 * is reached:
 * <ol>
 *   <li>a new telemetry event supersedes all older unsent telemetry of its type (coalescing);</li>
 *   <li>if still full, the oldest unsent telemetry of any type is dropped;</li>
 *   <li>if still full, a new telemetry event is itself discarded (it gets no seq);</li>
 *   <li>transitions, errors, alerts and command acks are never dropped: they are written past
 *       the bound, and the first time that happens an {@code alert} with reason
 *       {@code OUTBOX_OVER_BOUND} is written too (again only after the outbox drained below 90%).</li>
 * </ol>
 * Dropped events leave gaps in seq; the event written at that moment names them in its detail
 * {@code droppedSeqs} (ranges like {@code 12-15,18}), so the controller can tell them from loss.
 * The drop list is {@code events.dropped}, appended and fsync'd like the log.
 *
 * <p>This class is the facade; the work is split by concern: {@link OutboxJournal} (the files and
 * their encoding), {@link OutboxReplay} (recovery at open), {@link OutboxQueue} (seqs, the bound,
 * acknowledgement) and {@link OutboxPublisher} (the thread sending to the link).
 */
public final class Outbox implements EventSink, AutoCloseable {

    /** Logs as it always did; the split-out classes log under this name too. */
    private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);

    public static final String LOG_FILE = "events.jsonl";
    public static final String ACK_FILE = "events.acked";
    public static final String DROP_FILE = "events.dropped";
    /** The detail key naming the seqs dropped to stay inside the bound. */
    public static final String DROPPED_SEQS = "droppedSeqs";

    private final OutboxConfig config;
    private final String deviceId;
    private final OutboxQueue queue;
    private final List<Consumer<MqttEvent>> listeners = new CopyOnWriteArrayList<>();
    /** Set once, under the queue's lock, by {@link #startPublishing}. */
    private OutboxPublisher publisher;

    private Outbox(OutboxConfig config, String deviceId, OutboxQueue queue) {
        this.config = config;
        this.deviceId = deviceId;
        this.queue = queue;
    }

    /**
     * Opens (or creates) the outbox of {@code deviceId} in {@code config.dir()}, repairing a torn
     * tail. Fails with STATE_CORRUPT or FOREIGN_DEVICE (fatal) or an I/O error.
     */
    public static Outbox open(OutboxConfig config, String deviceId, Clock clock) throws IOException {
        Topics.events(deviceId); // validates the id
        Files.createDirectories(config.dir());
        OutboxJournal journal = new OutboxJournal(config.dir());
        OutboxReplay.Recovered recovered = OutboxReplay.replay(journal, config, deviceId);
        return new Outbox(config, deviceId, new OutboxQueue(config, deviceId, clock, journal, recovered));
    }

    @Override
    public void emit(Draft draft) throws IOException {
        List<MqttEvent> alsoWritten = new ArrayList<>(1);
        MqttEvent written = queue.emit(draft, alsoWritten);
        if (written == null) return;
        notifyListeners(written);
        for (MqttEvent e : alsoWritten) notifyListeners(e);
    }

    private void notifyListeners(MqttEvent e) {
        for (Consumer<MqttEvent> l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ex) {
                LOG.error("outbox {}: LISTENER_FAILED on seq {}", deviceId, e.seq(), ex);
            }
        }
    }

    /** Starts the publisher thread that drains the outbox over {@code link}. */
    public void startPublishing(MqttLink mqtt) {
        queue.ifOpen(() -> {
            if (publisher != null) return;
            publisher = new OutboxPublisher(config, deviceId, queue, mqtt);
            publisher.start();
        });
    }

    /** Called after every written event (on the emitting thread, outside the outbox lock). */
    public void addListener(Consumer<MqttEvent> listener) {
        listeners.add(listener);
    }

    /** Seq of the newest event written (0 before the first). */
    public long lastSeq() {
        return queue.lastSeq();
    }

    /** Seq of the newest event the broker acknowledged (in order). */
    public long ackedSeq() {
        return queue.ackedSeq();
    }

    public int pendingCount() {
        return queue.pendingCount();
    }

    /**
     * Waits until the broker acknowledged every event up to {@code seq} (e.g. to drain before a
     * planned reboot). Returns false on timeout or close.
     */
    public boolean awaitAcked(long seq, Duration timeout) throws InterruptedException {
        return queue.awaitAcked(seq, timeout);
    }

    /** Events handed to the link whose PUBACK (or failure) the publisher is still waiting for. */
    public int inflightCount() {
        return queue.inflightCount();
    }

    /** Pending events, oldest first (for tests and the technician CLI). */
    public List<MqttEvent> pendingEvents() {
        return queue.pendingEvents();
    }

    /** Events acknowledged by the broker since open. */
    public long publishedCount() {
        return queue.publishedCount();
    }

    /** Telemetry events dropped or coalesced away since open. */
    public long droppedCount() {
        return queue.droppedCount();
    }

    /** Telemetry drafts discarded on arrival because the bound was held by transitions. */
    public long discardedCount() {
        return queue.discardedCount();
    }

    /**
     * Stops the publisher and closes the files. Nothing is written on close, so closing is the
     * same as being killed at that instant: every emitted event is already durable.
     */
    @Override
    public void close() {
        if (!queue.close()) return;
        // Read after the queue closed under its lock: no publisher can be started any more.
        OutboxPublisher p = publisher;
        if (p != null) p.stop();
        queue.closeFiles();
    }
}
