package rsuota.agent.report;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.report.EventSink.Draft;
import rsuota.wire.MqttEvent;
import rsuota.wire.WireCodec;

/**
 * The unacknowledged events in seq order, guarded by the outbox lock: it gives each event its
 * seq, applies the {@link OutboxBound} (writing the drops), writes through the
 * {@link OutboxJournal} before an event counts, and forgets the acknowledged prefix.
 * {@link OutboxPublisher} takes its batches from here.
 */
final class OutboxQueue {

    /** Logs as {@link Outbox}: the logger name is in every line, and operators filter on it. */
    private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);

    private final OutboxConfig config;
    private final String deviceId;
    private final Clock clock;
    private final OutboxJournal journal;
    private final OutboxBound bound;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<PendingEvent> pending;
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong discarded = new AtomicLong();
    private long pendingBytes;
    /** Head entries of {@link #pending} handed to the link and not yet resolved: never dropped. */
    private int inflight;
    private long lastSeq;
    private long ackedSeq;
    /** Lines in the log file that are acknowledged or dropped: what compaction removes (none after replay). */
    private long garbageLines;
    private boolean overBoundAlerted;
    private volatile boolean closed;

    OutboxQueue(OutboxConfig config, String deviceId, Clock clock, OutboxJournal journal, OutboxReplay.Recovered recovered) {
        this.config = config;
        this.deviceId = deviceId;
        this.clock = clock;
        this.journal = journal;
        this.bound = new OutboxBound(config);
        this.pending = recovered.pending();
        this.pendingBytes = recovered.pendingBytes();
        this.lastSeq = recovered.lastSeq();
        this.ackedSeq = recovered.ackedSeq();
    }

    // ---------------------------------------------------------------- emitting

    /** Writes {@code d} (and an over-bound alert into {@code alsoWritten}); null when the bound discarded it. */
    MqttEvent emit(Draft d, List<MqttEvent> alsoWritten) throws IOException {
        lock.lock();
        try {
            MqttEvent written = emitLocked(d, alsoWritten);
            work.signalAll();
            return written;
        } finally {
            lock.unlock();
        }
    }

    /** Returns the event written, or null when a telemetry draft was discarded by the bound. */
    private MqttEvent emitLocked(Draft d, List<MqttEvent> alsoWritten) throws IOException {
        if (closed) throw new OutboxException(AgentError.CLOSED, "outbox of " + deviceId + " is closed");
        if (journal.isBroken()) throw new OutboxException(AgentError.BROKEN, "outbox of " + deviceId + " needs a restart after a failed write");
        boolean telemetry = config.telemetryTypes().contains(d.type());
        List<PendingEvent> victims = bound.makeRoom(pending, pendingBytes, inflight, d.type(), telemetry);
        if (victims == null) {
            long n = discarded.incrementAndGet();
            // First and every 100th: a full outbox offline for days would log every reading.
            if (n == 1 || n % 100 == 0) {
                LOG.warn("outbox {}: OUTBOX_FULL: {} events / {} bytes pending, none droppable; {} telemetry events discarded so far",
                        deviceId, pending.size(), pendingBytes, n);
            }
            return null;
        }
        Map<String, String> detail = d.detail();
        if (!victims.isEmpty()) {
            detail = new HashMap<>(detail);
            detail.put(Outbox.DROPPED_SEQS, OutboxBound.ranges(victims));
        }
        long seq = lastSeq + 1;
        MqttEvent e = new MqttEvent(MqttEvent.SCHEMA, deviceId, seq, clock.instant(), d.type(), d.state(),
                d.release(), d.reason(), detail);
        byte[] json = WireCodec.encode(e);
        if (json.length > WireCodec.MAX_BYTES) {
            throw new OutboxException(AgentError.EVENT_TOO_LARGE,
                    d.type() + " event of " + json.length + " bytes exceeds " + WireCodec.MAX_BYTES);
        }
        journal.append(json);
        lastSeq = seq;
        PendingEvent p = new PendingEvent(e, json, telemetry);
        pending.add(p);
        pendingBytes += p.bytes();
        if (!victims.isEmpty()) drop(victims);
        if (!telemetry && bound.overBound(pending.size(), pendingBytes) && !overBoundAlerted) {
            overBoundAlerted = true;
            LOG.error("outbox {}: OUTBOX_OVER_BOUND: {} events / {} bytes pending (bound {} / {}): transitions kept beyond the bound",
                    deviceId, pending.size(), pendingBytes, config.maxEvents(), config.maxBytes());
            MqttEvent alert = emitLocked(new Draft("alert", null, null, "OUTBOX_OVER_BOUND", Map.of(
                    "pending", Long.toString(pending.size()), "pendingBytes", Long.toString(pendingBytes),
                    "maxEvents", Integer.toString(config.maxEvents()), "maxBytes", Long.toString(config.maxBytes()))), alsoWritten);
            if (alert != null) alsoWritten.add(alert);
        }
        return e;
    }

    private void drop(List<PendingEvent> victims) throws IOException {
        try {
            journal.appendDrops(victims.stream().map(PendingEvent::seq).toList());
        } catch (IOException e) {
            // The event naming the drop is durable; the dropped ones stay in the log and will be
            // sent after all, which is only more than promised.
            LOG.warn("outbox {}: drop list not updated, {} telemetry events stay: {}", deviceId, victims.size(), e.toString());
            return;
        }
        Set<PendingEvent> gone = new HashSet<>(victims);
        pending.removeIf(gone::contains);
        for (PendingEvent v : victims) pendingBytes -= v.bytes();
        garbageLines += victims.size();
        dropped.addAndGet(victims.size());
    }

    // ---------------------------------------------------------------- the publisher's side

    /**
     * Waits until there is something to send and {@code connected}, then marks up to
     * {@code size} of the oldest events in flight and returns them; null once closed.
     */
    List<PendingEvent> awaitBatch(int size, BooleanSupplier connected) throws InterruptedException {
        lock.lock();
        try {
            // Bounded waits: a missed signal costs a few seconds, never a stall.
            while (!closed && (pending.isEmpty() || !connected.getAsBoolean())) work.await(5, TimeUnit.SECONDS);
            if (closed) return null;
            List<PendingEvent> batch = new ArrayList<>(Math.min(size, pending.size()));
            Iterator<PendingEvent> it = pending.iterator();
            while (it.hasNext() && batch.size() < size) batch.add(it.next());
            inflight = batch.size();
            return batch;
        } finally {
            lock.unlock();
        }
    }

    /** The batch is resolved: its first {@code acked} events were acknowledged by the broker. */
    void settle(List<PendingEvent> batch, int acked) {
        lock.lock();
        try {
            inflight = 0;
            if (acked > 0) acknowledge(batch.subList(0, acked));
        } catch (IOException e) {
            // The events stay pending and will be sent again: duplicates, never loss.
            LOG.warn("outbox {}: ack pointer not written: {}", deviceId, e.toString());
        } finally {
            lock.unlock();
        }
    }

    /** Removes the acknowledged prefix and moves the ack pointer; called with the lock held. */
    private void acknowledge(List<PendingEvent> done) throws IOException {
        long ackedUpTo = ackedSeq;
        for (PendingEvent p : done) {
            if (pending.peekFirst() == p) {
                pending.pollFirst();
                pendingBytes -= p.bytes();
                garbageLines++;
            }
            ackedUpTo = Math.max(ackedUpTo, p.seq());
        }
        published.addAndGet(done.size());
        ackedSeq = ackedUpTo;
        work.signalAll();
        // No directory fsync here: losing this rename in a power cut re-sends a few events
        // (duplicates); compaction, which deletes acknowledged lines, syncs it first.
        journal.writeAck(ackedSeq, lastSeq, false);
        if (overBoundAlerted && bound.drained(pending.size(), pendingBytes)) {
            overBoundAlerted = false;
        }
        if (garbageLines >= config.compactEvery()) {
            journal.compact(ackedSeq, lastSeq, pending.stream().map(PendingEvent::json).toList());
            garbageLines = 0;
        }
    }

    /** Waits {@code millis}, or less when closed. */
    void pause(long millis) {
        if (millis <= 0) return;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        lock.lock();
        try {
            long left;
            while (!closed && (left = deadline - System.nanoTime()) > 0) work.awaitNanos(left);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes a publisher waiting for work (e.g. the link reconnected). */
    void wake() {
        lock.lock();
        try {
            work.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- queries and lifecycle

    long lastSeq() {
        return locked(() -> lastSeq);
    }

    long ackedSeq() {
        return locked(() -> ackedSeq);
    }

    int pendingCount() {
        return locked(() -> pending.size());
    }

    int inflightCount() {
        return locked(() -> inflight);
    }

    List<MqttEvent> pendingEvents() {
        return locked(() -> pending.stream().map(PendingEvent::event).toList());
    }

    private <T> T locked(Supplier<T> read) {
        lock.lock();
        try {
            return read.get();
        } finally {
            lock.unlock();
        }
    }

    boolean awaitAcked(long seq, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            long left;
            while (ackedSeq < seq) {
                if (closed || (left = deadline - System.nanoTime()) <= 0) return false;
                work.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    long publishedCount() {
        return published.get();
    }

    long droppedCount() {
        return dropped.get();
    }

    long discardedCount() {
        return discarded.get();
    }

    boolean isClosed() {
        return closed;
    }

    /** Runs {@code action} under the lock unless closed, so it cannot race {@link #close()}. */
    void ifOpen(Runnable action) {
        lock.lock();
        try {
            if (!closed) action.run();
        } finally {
            lock.unlock();
        }
    }

    /** Marks the queue closed and wakes every waiter; false when it already was. */
    boolean close() {
        lock.lock();
        try {
            if (closed) return false;
            closed = true;
            work.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Closes the journal's files once the publisher stopped. */
    void closeFiles() {
        lock.lock();
        try {
            journal.close();
        } finally {
            lock.unlock();
        }
    }
}
