package rsuota.agent.report;

import rsuota.hal.storage.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.link.LinkException;
import rsuota.agent.link.MqttLink;
import rsuota.wire.MqttEvent;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;
import rsuota.wire.WireException;

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
 */
public final class Outbox implements EventSink, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);

    public static final String LOG_FILE = "events.jsonl";
    public static final String ACK_FILE = "events.acked";
    public static final String DROP_FILE = "events.dropped";
    /** The detail key naming the seqs dropped to stay inside the bound. */
    public static final String DROPPED_SEQS = "droppedSeqs";
    /** Longest droppedSeqs value: keeps the carrying event far below the wire size limit. */
    private static final int MAX_DROPPED_TEXT = 1024;
    private static final byte NEWLINE = '\n';
    /** Longest a failed or refused batch waits before it is tried again. */
    private static final long MAX_RETRY_PAUSE_MILLIS = 60_000;

    private record Pending(MqttEvent event, byte[] json, boolean telemetry) {
        long seq() {
            return event.seq();
        }

        int bytes() {
            return json.length + 1;
        }
    }

    private final OutboxConfig config;
    private final String deviceId;
    private final String topic;
    private final Clock clock;
    private final Path logPath;
    private final Path ackPath;
    private final Path dropPath;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final List<Consumer<MqttEvent>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong discarded = new AtomicLong();
    private long pendingBytes;
    /** Head entries of {@link #pending} handed to the link and not yet resolved: never dropped. */
    private int inflight;
    private long lastSeq;
    private long ackedSeq;
    /** Lines in the log file that are acknowledged or dropped: what compaction removes. */
    private long garbageLines;
    private boolean overBoundAlerted;
    private boolean broken;
    private FileChannel log;
    private FileChannel drops;
    private volatile boolean closed;
    private volatile MqttLink link;
    private Thread publisher;

    private Outbox(OutboxConfig config, String deviceId, Clock clock) {
        this.config = config;
        this.deviceId = deviceId;
        this.topic = Topics.events(deviceId);
        this.clock = clock;
        this.logPath = config.dir().resolve(LOG_FILE);
        this.ackPath = config.dir().resolve(ACK_FILE);
        this.dropPath = config.dir().resolve(DROP_FILE);
    }

    /**
     * Opens (or creates) the outbox of {@code deviceId} in {@code config.dir()}, repairing a torn
     * tail. Fails with STATE_CORRUPT or FOREIGN_DEVICE (fatal) or an I/O error.
     */
    public static Outbox open(OutboxConfig config, String deviceId, Clock clock) throws IOException {
        Topics.events(deviceId); // validates the id
        Files.createDirectories(config.dir());
        Outbox o = new Outbox(config, deviceId, clock);
        o.load();
        return o;
    }

    // ---------------------------------------------------------------- loading

    private void load() throws IOException {
        // Leftovers of an interrupted atomic write; only our own names, the directory may be shared.
        Files.deleteIfExists(logPath.resolveSibling(LOG_FILE + DurableFiles.TMP_SUFFIX));
        Files.deleteIfExists(ackPath.resolveSibling(ACK_FILE + DurableFiles.TMP_SUFFIX));
        long[] ack = readAck();
        ackedSeq = ack[0];
        Set<Long> droppedSeqs = readDrops();
        boolean created = !Files.exists(logPath);
        log = FileChannel.open(logPath, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        if (created) DurableFiles.fsyncDirectory(config.dir());
        byte[] data = Files.readAllBytes(logPath);
        long maxSeq = 0;
        long goodEnd = 0;
        long lines = 0;
        int start = 0;
        for (int i = 0; i < data.length; i++) {
            if (data[i] != NEWLINE) continue;
            int end = i;
            MqttEvent e = parse(data, start, end);
            if (e == null || e.seq() <= maxSeq) {
                // Not at the tail (a later good line may follow): logged now, skipped, and it
                // stays garbage until compaction. If nothing good follows, it is cut below.
                if (e != null) LOG.error("outbox {}: OUTBOX_CORRUPT_LINE: seq {} after {} at byte {}, skipped", deviceId, e.seq(), maxSeq, start);
                else if (hasGoodLineAfter(data, i + 1)) LOG.error("outbox {}: OUTBOX_CORRUPT_LINE at byte {}, skipped", deviceId, start);
            } else {
                if (!deviceId.equals(e.deviceId())) {
                    log.close();
                    throw new OutboxException(OutboxException.Code.FOREIGN_DEVICE,
                            logPath + " holds events of device " + e.deviceId() + ", not " + deviceId);
                }
                maxSeq = e.seq();
                goodEnd = end + 1;
                if (e.seq() > ackedSeq && !droppedSeqs.contains(e.seq())) {
                    byte[] json = java.util.Arrays.copyOfRange(data, start, end);
                    Pending p = new Pending(e, json, config.telemetryTypes().contains(e.type()));
                    pending.add(p);
                    pendingBytes += p.bytes();
                }
            }
            lines++;
            start = i + 1;
        }
        if (goodEnd < data.length) {
            // A torn last line (the emit never returned) or garbage after a power cut: cut it.
            LOG.warn("outbox {}: OUTBOX_TORN_TAIL: discarding {} bytes after the last complete event (seq {})",
                    deviceId, data.length - goodEnd, maxSeq);
            log.truncate(goodEnd);
            log.force(true);
        }
        log.position(goodEnd);
        lastSeq = Math.max(Math.max(ack[0], ack[1]), maxSeq);
        garbageLines = Math.max(0, lines - pending.size());
        drops = FileChannel.open(dropPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        if (garbageLines > 0) compact();
        LOG.info("outbox {}: opened, seq {}, acked {}, {} pending", deviceId, lastSeq, ackedSeq, pending.size());
    }

    private boolean hasGoodLineAfter(byte[] data, int from) {
        int start = from;
        for (int i = from; i < data.length; i++) {
            if (data[i] != NEWLINE) continue;
            if (parse(data, start, i) != null) return true;
            start = i + 1;
        }
        return false;
    }

    private MqttEvent parse(byte[] data, int start, int end) {
        if (end - start <= 0 || end - start > WireCodec.MAX_BYTES) return null;
        try {
            return WireCodec.decode(java.util.Arrays.copyOfRange(data, start, end), MqttEvent.class);
        } catch (WireException e) {
            return null;
        }
    }

    /** {acked, last}; {0, 0} when absent. */
    private long[] readAck() throws IOException {
        if (!Files.exists(ackPath)) return new long[] {0, 0};
        String text = Files.readString(ackPath, StandardCharsets.US_ASCII);
        Map<String, Long> values = new HashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq <= 0) continue;
            try {
                values.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1).trim()));
            } catch (NumberFormatException e) {
                break;
            }
        }
        Long acked = values.get("acked");
        Long last = values.get("last");
        if (acked == null || last == null || acked < 0 || last < acked) {
            // Written by atomic rename, so this is media damage or a hand edit; guessing could
            // reuse seqs the controller already has, which it would then drop as duplicates.
            throw new OutboxException(OutboxException.Code.STATE_CORRUPT,
                    ackPath + " is unreadable ('" + text.strip().replace('\n', ' ') + "'); inspect it, or move the outbox directory aside to start a new seq history");
        }
        return new long[] {acked, last};
    }

    private Set<Long> readDrops() throws IOException {
        Set<Long> out = new HashSet<>();
        if (!Files.exists(dropPath)) return out;
        for (String line : Files.readAllLines(dropPath, StandardCharsets.US_ASCII)) {
            try {
                out.add(Long.parseLong(line.trim()));
            } catch (NumberFormatException tornOrEmpty) {
                // A torn last line of the drop list: that drop did not complete, the event stays.
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- emitting

    @Override
    public void emit(Draft draft) throws IOException {
        MqttEvent written;
        List<MqttEvent> alsoWritten = new ArrayList<>(1);
        lock.lock();
        try {
            written = emitLocked(draft, alsoWritten);
            work.signalAll();
        } finally {
            lock.unlock();
        }
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

    /** Returns the event written, or null when a telemetry draft was discarded by the bound. */
    private MqttEvent emitLocked(Draft d, List<MqttEvent> alsoWritten) throws IOException {
        if (closed) throw new OutboxException(OutboxException.Code.CLOSED, "outbox of " + deviceId + " is closed");
        if (broken) throw new OutboxException(OutboxException.Code.BROKEN, "outbox of " + deviceId + " needs a restart after a failed write");
        boolean telemetry = config.telemetryTypes().contains(d.type());
        List<Pending> victims = new ArrayList<>();
        if (full(victims)) {
            if (telemetry) selectVictims(victims, d.type(), true);
            if (full(victims)) selectVictims(victims, null, false);
            if (telemetry && full(victims)) {
                long n = discarded.incrementAndGet();
                // First and every 100th: a full outbox offline for days would log every reading.
                if (n == 1 || n % 100 == 0) {
                    LOG.warn("outbox {}: OUTBOX_FULL: {} events / {} bytes pending, none droppable; {} telemetry events discarded so far",
                            deviceId, pending.size(), pendingBytes, n);
                }
                return null;
            }
        }
        Map<String, String> detail = d.detail();
        if (!victims.isEmpty()) {
            detail = new HashMap<>(detail);
            detail.put(DROPPED_SEQS, ranges(victims));
        }
        long seq = lastSeq + 1;
        MqttEvent e = new MqttEvent(MqttEvent.SCHEMA, deviceId, seq, clock.instant(), d.type(), d.state(),
                d.release(), d.reason(), detail);
        byte[] json = WireCodec.encode(e);
        if (json.length > WireCodec.MAX_BYTES) {
            throw new OutboxException(OutboxException.Code.EVENT_TOO_LARGE,
                    d.type() + " event of " + json.length + " bytes exceeds " + WireCodec.MAX_BYTES);
        }
        append(json);
        lastSeq = seq;
        Pending p = new Pending(e, json, telemetry);
        pending.add(p);
        pendingBytes += p.bytes();
        if (!victims.isEmpty()) drop(victims);
        if (!telemetry && overBound() && !overBoundAlerted) {
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

    /** Would one more event exceed the bound, counting {@code victims} as already gone? */
    private boolean full(List<Pending> victims) {
        long bytes = pendingBytes;
        for (Pending v : victims) bytes -= v.bytes();
        return pending.size() - victims.size() >= config.maxEvents() || bytes >= config.maxBytes();
    }

    private boolean overBound() {
        return pending.size() > config.maxEvents() || pendingBytes > config.maxBytes();
    }

    /**
     * Adds droppable telemetry to {@code victims}, oldest first, skipping what is in flight.
     * With {@code all}, every match of {@code type} (coalescing); otherwise only until not full.
     */
    private void selectVictims(List<Pending> victims, String type, boolean all) {
        int index = 0;
        for (Pending p : pending) {
            if (index++ < inflight) continue;
            if (!all && !full(victims)) return;
            if (!p.telemetry() || victims.contains(p)) continue;
            if (type != null && !type.equals(p.event().type())) continue;
            victims.add(p);
        }
    }

    private void drop(List<Pending> victims) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Pending v : victims) sb.append(v.seq()).append('\n');
        try {
            DurableFiles.writeFully(drops, ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.US_ASCII)));
            drops.force(false);
        } catch (IOException e) {
            // The event naming the drop is durable; the dropped ones stay in the log and will be
            // sent after all, which is only more than promised.
            LOG.warn("outbox {}: drop list not updated, {} telemetry events stay: {}", deviceId, victims.size(), e.toString());
            return;
        }
        Set<Pending> gone = new HashSet<>(victims);
        pending.removeIf(gone::contains);
        for (Pending v : victims) pendingBytes -= v.bytes();
        garbageLines += victims.size();
        dropped.addAndGet(victims.size());
    }

    private static String ranges(List<Pending> victims) {
        List<Long> seqs = victims.stream().map(Pending::seq).sorted().toList();
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < seqs.size()) {
            int j = i;
            while (j + 1 < seqs.size() && seqs.get(j + 1) == seqs.get(j) + 1) j++;
            String part = seqs.get(i).equals(seqs.get(j)) ? seqs.get(i).toString() : seqs.get(i) + "-" + seqs.get(j);
            if (sb.length() + part.length() + 4 > MAX_DROPPED_TEXT) {
                sb.append(sb.length() == 0 ? "" : ",").append("...");
                break;
            }
            if (sb.length() > 0) sb.append(',');
            sb.append(part);
            i = j + 1;
        }
        return sb.toString();
    }

    private void append(byte[] json) throws IOException {
        long before = log.position();
        try {
            DurableFiles.writeFully(log, ByteBuffer.wrap(json), ByteBuffer.wrap(new byte[] {NEWLINE}));
            // fdatasync: the data and the new file size; the file itself is already durable.
            log.force(false);
        } catch (IOException e) {
            try {
                // Remove the partial line, or the next append would glue a good event onto it.
                log.truncate(before);
                log.position(before);
                log.force(false);
            } catch (IOException undo) {
                broken = true;
                e.addSuppressed(undo);
            }
            throw new OutboxException(OutboxException.Code.WRITE_FAILED, "appending to " + logPath + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- publishing

    /** Starts the publisher thread that drains the outbox over {@code link}. */
    public void startPublishing(MqttLink mqtt) {
        lock.lock();
        try {
            if (publisher != null || closed) return;
            this.link = mqtt;
            mqtt.addConnectionListener(new MqttLink.ConnectionListener() {
                @Override
                public void connected(int window) {
                    wake();
                }
            });
            publisher = new Thread(this::publishLoop, "outbox-" + deviceId);
            publisher.setDaemon(true);
            publisher.start();
        } finally {
            lock.unlock();
        }
    }

    private void wake() {
        lock.lock();
        try {
            work.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void publishLoop() {
        int failures = 0;
        while (!closed) {
            List<Pending> batch;
            lock.lock();
            try {
                // Bounded waits: a missed signal costs a few seconds, never a stall.
                while (!closed && (pending.isEmpty() || !link.isConnected())) work.await(5, TimeUnit.SECONDS);
                if (closed) return;
                batch = new ArrayList<>(Math.min(config.batchSize(), pending.size()));
                Iterator<Pending> it = pending.iterator();
                while (it.hasNext() && batch.size() < config.batchSize()) batch.add(it.next());
                inflight = batch.size();
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            List<CompletableFuture<Void>> sent = new ArrayList<>(batch.size());
            for (Pending p : batch) sent.add(link.publish(topic, p.json(), false));
            int acked = 0;
            LinkException failure = null;
            try {
                for (CompletableFuture<Void> f : sent) {
                    f.get(config.ackTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    acked++;
                }
            } catch (ExecutionException e) {
                failure = LinkException.of(e.getCause());
            } catch (TimeoutException e) {
                failure = new LinkException(LinkException.Code.PUBLISH_TIMEOUT, "no PUBACK within " + config.ackTimeout());
            } catch (InterruptedException e) {
                return;
            }
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
            if (failure == null) {
                failures = 0;
                continue;
            }
            if (closed) return; // the failure is our own close interrupting the batch
            failures++;
            // Only events after the first failure are re-sent; order is kept because the next
            // batch starts at the oldest unacknowledged event.
            long pause = Math.min(MAX_RETRY_PAUSE_MILLIS, 100L << Math.min(failures, 10));
            if (failure.isTransient()) {
                LOG.info("outbox {}: {} events of a batch unconfirmed ({}), re-sending", deviceId, batch.size() - acked, failure.getMessage());
                if (failure.code() == LinkException.Code.NOT_CONNECTED || failure.code() == LinkException.Code.CONNECTION_LOST) pause = 0;
            } else {
                LOG.error("outbox {}: {} ({}): events stay in the outbox, retry in {} ms", deviceId, failure.code(), failure.getMessage(), pause);
            }
            pauseFor(pause);
        }
    }

    private void pauseFor(long millis) {
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

    /** Removes the acknowledged prefix and moves the ack pointer; called with the lock held. */
    private void acknowledge(List<Pending> done) throws IOException {
        long ackedUpTo = ackedSeq;
        for (Pending p : done) {
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
        DurableFiles.writeAtomically(ackPath, ("acked=" + ackedSeq + "\nlast=" + lastSeq + "\n").getBytes(StandardCharsets.US_ASCII), false);
        if (overBoundAlerted && pending.size() < config.maxEvents() * 9L / 10 && pendingBytes < config.maxBytes() * 9 / 10) {
            overBoundAlerted = false;
        }
        if (garbageLines >= config.compactEvery()) compact();
    }

    /** Rewrites the log with the pending events only. Lock held (or during open). */
    private void compact() throws IOException {
        // The ack pointer must be durable before the acknowledged lines disappear, or a power cut
        // could leave neither, and the seq would restart below what the controller has seen.
        DurableFiles.writeAtomically(ackPath, ("acked=" + ackedSeq + "\nlast=" + lastSeq + "\n").getBytes(StandardCharsets.US_ASCII), true);
        Path tmp = logPath.resolveSibling(LOG_FILE + DurableFiles.TMP_SUFFIX);
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (Pending p : pending) DurableFiles.writeFully(out, ByteBuffer.wrap(p.json()), ByteBuffer.wrap(new byte[] {NEWLINE}));
            out.force(true);
        }
        Files.move(tmp, logPath, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        DurableFiles.fsyncDirectory(config.dir());
        FileChannel old = log;
        log = FileChannel.open(logPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
        log.position(log.size());
        old.close();
        // The dropped events are no longer in the log, so their list can go.
        drops.truncate(0);
        drops.force(true);
        garbageLines = 0;
    }

    // ---------------------------------------------------------------- queries and lifecycle

    /** Called after every written event (on the emitting thread, outside the outbox lock). */
    public void addListener(Consumer<MqttEvent> listener) {
        listeners.add(listener);
    }

    /** Seq of the newest event written (0 before the first). */
    public long lastSeq() {
        lock.lock();
        try {
            return lastSeq;
        } finally {
            lock.unlock();
        }
    }

    /** Seq of the newest event the broker acknowledged (in order). */
    public long ackedSeq() {
        lock.lock();
        try {
            return ackedSeq;
        } finally {
            lock.unlock();
        }
    }

    public int pendingCount() {
        lock.lock();
        try {
            return pending.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until the broker acknowledged every event up to {@code seq} (e.g. to drain before a
     * planned reboot). Returns false on timeout or close.
     */
    public boolean awaitAcked(long seq, java.time.Duration timeout) throws InterruptedException {
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

    /** Events handed to the link whose PUBACK (or failure) the publisher is still waiting for. */
    public int inflightCount() {
        lock.lock();
        try {
            return inflight;
        } finally {
            lock.unlock();
        }
    }

    /** Pending events, oldest first (for tests and the technician CLI). */
    public List<MqttEvent> pendingEvents() {
        lock.lock();
        try {
            return pending.stream().map(Pending::event).toList();
        } finally {
            lock.unlock();
        }
    }

    /** Events acknowledged by the broker since open. */
    public long publishedCount() {
        return published.get();
    }

    /** Telemetry events dropped or coalesced away since open. */
    public long droppedCount() {
        return dropped.get();
    }

    /** Telemetry drafts discarded on arrival because the bound was held by transitions. */
    public long discardedCount() {
        return discarded.get();
    }

    /**
     * Stops the publisher and closes the files. Nothing is written on close, so closing is the
     * same as being killed at that instant: every emitted event is already durable.
     */
    @Override
    public void close() {
        Thread t;
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            work.signalAll();
            t = publisher;
        } finally {
            lock.unlock();
        }
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        lock.lock();
        try {
            closeQuietly(log);
            closeQuietly(drops);
        } finally {
            lock.unlock();
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException e) {
            // Nothing is buffered in a FileChannel; a failing close loses nothing.
        }
    }
}
