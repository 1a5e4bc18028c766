package rsuota.agent.download;

import rsuota.agent.AgentException;
import rsuota.agent.AgentError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;
import java.util.ArrayList;
import rsuota.bundle.BundleVerifier;
import rsuota.bundle.ChunkCodec;
import rsuota.bundle.ChunkLayout;
import rsuota.bundle.Chunking;
import rsuota.hal.boot.Slot;
import rsuota.hal.storage.SlotStorage;
import rsuota.bundle.ManifestImage;
import rsuota.bundle.Sha256;

/**
 * Gets a verified bundle onto a slot; the one way into this package's chunk pipeline. Two calls,
 * because the caller persists its state between them (the verified target, then the slot marked
 * unbootable) and this class persists nothing but its own journal:
 * <ol>
 * <li>{@link #fetchHeader} (or {@link #verifyHeader} of a header kept from before a restart): the
 * header is verified before any payload byte is requested;</li>
 * <li>{@link #fill}: chunk by chunk, each checked against its signed hash before it is written,
 * fsync'd, then journaled; the slot is read back behind the writer and every image hash checked.</li>
 * </ol>
 * Every failure is a {@link AgentException} with a stable code; transient fetch failures are
 * retried under the {@link RetryPolicy} first.
 */
public final class SlotFiller {
    /** First header request: enough for the header of a multi-GiB bundle at 4 MiB chunks (~20 KiB). */
    public static final int FIRST_HEADER_FETCH = HeaderCheck.FIRST_HEADER_FETCH;
    /**
     * Written chunks are fsync'd and journaled in groups (one fsync of the slot and one of the
     * journal per group): at most this many chunks or bytes. A power cut loses at most one group
     * of progress, never correctness (the journal only names fsync'd chunks).
     */
    public static final int FLUSH_CHUNKS = 4;
    /**
     * Format 2 chunks average 64 KiB: a group of 4 would fsync every 256 KiB. The journal names each
     * chunk as soon as it is written (checked on the slot at resume if no fsync followed), so larger
     * groups cost no refetch after a kill.
     */
    public static final int FLUSH_CHUNKS_V2 = 256;
    public static final long FLUSH_BYTES = 16L * 1024 * 1024;
    /**
     * The JDK copies a heap buffer through a cached per-thread direct buffer as large as the write;
     * writing in slices keeps that buffer at 256 KiB instead of a whole chunk (RSS, docs/benchmarks.md).
     */
    static final int WRITE_SLICE = 256 * 1024;

    /** Called after every durable group of chunks (and once before the first). */
    public interface Listener {
        /**
         * @param bytesFetched   payload bytes fetched, failed attempts included, earlier runs included (as
         *                       their journal recorded them: a kill -9 loses none, a power cut at most a group)
         * @param chunksVerified chunks verified and journaled, earlier runs included
         * @param bytesReused    bytes of those chunks copied from a slot instead of fetched, earlier runs
         *                       included (from the journal: a chunk re-done after a kill counts once)
         * @param chunksReused   how many of those chunks were copied, earlier runs included
         */
        void progress(long bytesFetched, int chunksVerified, long bytesReused, int chunksReused);
    }

    /** A newer order replaced this one. */
    public static final class Cancelled extends Exception {
        public Cancelled() {
            super("cancelled by a newer order");
        }
    }

    private final DownloadTarget target;
    private final DownloadHook hook;
    private final Retrying retrying;
    private final HeaderCheck header;

    public SlotFiller(BundleVerifier verifier, DownloadTarget target, RetryPolicy retry, Sleeper sleeper, RandomGenerator random,
                      DownloadHook hook) {
        this.target = target;
        this.hook = hook;
        this.retrying = new Retrying(retry, sleeper, random);
        this.header = new HeaderCheck(verifier, target, retrying);
    }

    /** Fetches and verifies the header; nothing is written to any slot. */
    public VerifiedHeader.Fetched fetchHeader(BundleSource src, String expectedDigest) throws AgentException, InterruptedException, IOException {
        return header.fetch(src, expectedDigest);
    }

    /** Verifies a header fetched earlier (kept across a restart in {@code file}) against the bundle identity it came from. */
    public VerifiedHeader verifyHeader(Path file, BundleSource.Identity identity, String expectedDigest) throws AgentException, IOException {
        return header.verify(file, identity, expectedDigest);
    }

    /** Forgets a download's progress: the next {@link #fill} into this directory starts from the first chunk. */
    public static void deleteJournal(Path journalDir) throws IOException {
        DownloadJournal.delete(journalDir);
        Files.deleteIfExists(journalDir.resolve(HeaderCheck.SPOOL));
    }

    /**
     * Deletes the verified manifest's tables kept for the fill ({@link rsuota.bundle.SpilledTables}):
     * once the download is done or discarded. A header verified again writes them again.
     */
    public static void deleteTables(Path journalDir) throws IOException {
        Files.deleteIfExists(journalDir.resolve(HeaderCheck.TABLES));
    }

    /**
     * Indexes {@code slot} (the slot just made active) for the next install's reuse, with the
     * chunking of the release it holds, and persists the index in {@code dir} where {@link #fill}
     * looks for it. Returns the notes of a persisted index found invalid (it is rebuilt), and
     * whether the slot was read (false: the persisted index is already bound to this slot's content).
     */
    public static boolean indexSlot(SlotStorage storage, Slot slot, Path dir, Chunking chunking, List<FillReport.Note> notes) throws IOException {
        return ActiveSlotIndex.open(storage, slot, dir, chunking, notes).built();
    }

    /** One chunk still to write: where it lies in the image and in the payload. */
    private record Todo(int image, int chunk, ChunkLayout l) {
        String where() {
            return "image '" + l.image().slotClass() + "' chunk " + chunk + " of " + l.count();
        }
    }

    /** Chunks fetched with one Range request: adjacent in the payload. */
    private record Run(Todo first, int count, long offset, int length, int buffer) {
        /** The run's chunks, made on demand: a plan holds one record per run, not one per chunk (12,000 for a 1 GiB image). */
        List<Todo> chunks() {
            return new java.util.AbstractList<>() {
                @Override
                public Todo get(int k) {
                    return new Todo(first.image(), first.chunk() + java.util.Objects.checkIndex(k, count), first.l());
                }

                @Override
                public int size() {
                    return count;
                }
            };
        }
    }

    /**
     * A chunk copied from where the unit already holds it: the active slot (a chunk of the running
     * release), or the target slot itself (a chunk that occurs twice in the new image, written first).
     */
    private record Reuse(ChunkLayout l, int image, int index, int count, long from, boolean fromTarget) {
        /** The k-th chunk of the run: consecutive in the image and, from {@code from} on, in the slot it is copied from. */
        Todo chunk(int k) {
            return new Todo(image, index + k, l);
        }

        long from(int k) {
            return from + l.offset(index + k) - l.offset(index);
        }
    }

    /**
     * Writes every chunk the journal does not name into the target slot: copied from the active
     * slot where it holds the same chunk (format 2), else fetched (adjacent chunks in one Range
     * request of at most one maximal chunk). {@code cancelled} is polled between chunks (a newer
     * order replaces this one). Returns normally when every chunk and image is verified on the slot.
     */
    public FillReport fill(BundleSource src, VerifiedHeader h, Listener listener, BooleanSupplier cancelled)
            throws AgentException, InterruptedException, Cancelled {
        try {
            return fillChecked(src, h, listener, cancelled);
        } catch (java.io.UncheckedIOException e) {
            // the verified manifest's tables, kept in the state directory, no longer read back as written (SpilledTables)
            throw new AgentException(AgentError.STATE_LOST, e.getCause().getMessage(), e);
        }
    }

    private FillReport fillChecked(BundleSource src, VerifiedHeader h, Listener listener, BooleanSupplier cancelled)
            throws AgentException, InterruptedException, Cancelled {
        List<ManifestImage> images = h.manifest().images();
        List<ChunkLayout> layouts = images.stream().map(ChunkLayout::of).toList();
        int[] counts = images.stream().mapToInt(ManifestImage::chunkCount).toArray();
        boolean compressed = images.get(0).compressed();
        // Binds the journal to this bundle on this slot: a journal of another one is discarded.
        String binding = h.manifestDigest() + " " + target.slot() + " " + h.identity().size() + " " + h.identity().etag();
        // A Range request carries at most one maximal chunk, so a kill costs at most that much
        // fetched again; format 1 chunks (megabytes) go one per request as before.
        int runCap = layouts.stream().mapToInt(l -> compressed ? Math.max(l.image().chunkSize(), l.maxStoredLength()) : l.maxStoredLength())
                .max().orElse(0);
        int maxLength = layouts.stream().mapToInt(ChunkLayout::maxLength).max().orElse(0);
        List<FillReport.Note> notes = new ArrayList<>();
        long fetchedBefore = src.bytesFetched();
        int[] tally = new int[2]; // chunks fetched, chunks reused
        long[] reusedBytes = {0};
        // Format 2: two fetch buffers, the next run downloads on a worker while this one is checked and
        // written. Format 1 chunks are megabytes: one buffer, the next chunk fetched once this one is
        // written, keeps the install within its memory target (docs/benchmarks.md, "Install peak RSS").
        boolean prefetch = compressed;
        byte[] firstBuf = new byte[runCap];
        byte[][] bufs = {firstBuf, prefetch ? new byte[runCap] : firstBuf};
        byte[] raw = compressed ? new byte[maxLength] : null;
        java.util.concurrent.ExecutorService fetcher = java.util.concurrent.Executors.newSingleThreadExecutor(DownloadThreads.factory("rsu-fetch"));
        java.util.concurrent.Future<BundleSource.Fetched> next = null;
        FileChannel activeCh = null;
        long[] totalReused;
        boolean[] indexBuilt = {false};
        try (DownloadJournal journal = DownloadJournal.open(target.journalDir(), binding, counts);
             FileChannel slot = target.storage().openForWrite(target.slot());
             ReadBack readBack = new ReadBack(layouts, target);
             ChunkCodec codec = new ChunkCodec()) {
            java.util.function.LongSupplier fetchedTotal = () -> journal.fetchedEarlier() + src.bytesFetched() - fetchedBefore;
            Flusher flush = new Flusher(slot, journal, readBack, () -> report(listener, fetchedTotal, journal, layouts),
                    compressed ? FLUSH_CHUNKS_V2 : FLUSH_CHUNKS);
            // Chunks an earlier run wrote after its last fsync: kept if the slot still holds them.
            for (int[] p : journal.pending()) {
                ChunkLayout l = layouts.get(p[0]);
                byte[] b = raw != null ? raw : bufs[0];
                if (readFully(slot, l.offset(p[1]), b, l.length(p[1])) && Sha256.of(b, 0, l.length(p[1])).equals(l.identity(p[1]))) {
                    journal.append(p[0], p[1], p[2] == 1);
                    flush.add(new Todo(p[0], p[1], l));
                }
            }
            ActiveSlotIndex index = null;
            if (compressed && target.active() != null && target.active() != target.slot()) {
                try {
                    index = ActiveSlotIndex.open(target.storage(), target.active(), target.journalDir(), images.get(0).chunking(), notes);
                    indexBuilt[0] = index.built();
                    activeCh = target.storage().openForRead(target.active());
                } catch (IOException e) {
                    // Reuse saves bytes; it is never worth failing the install for: fetch everything instead.
                    index = null;
                    notes.add(new FillReport.Note(AgentError.ACTIVE_INDEX_INVALID, "the active slot " + target.active()
                            + " cannot be indexed (" + e.getMessage() + "); every chunk is fetched"));
                }
            }
            int maxPrefix = layouts.stream().mapToInt(l -> l.compressed() ? l.image().cdc().prefix() : 0).max().orElse(0);
            Prefix prefix = new Prefix(slot, maxPrefix);
            Walk walk = new Walk(plan(layouts, journal, index), runCap);
            if (index != null) index.release();
            // The manifest's parse, the index and the plan leave garbage that an install's small heap
            // keeps committed until a full collection (Serial shrinks the heap only then): collected
            // here, once, before the long part (docs/benchmarks.md, "Install peak RSS").
            System.gc();
            report(listener, fetchedTotal, journal, layouts);
            readBack.advance(journal);
            Run following = walk.peekRun();
            if (following != null) next = fetcher.submit(fetchTask(src, h, following, bufs));
            for (Object item = walk.next(); item != null; item = walk.next()) {
                if (cancelled.getAsBoolean()) throw new Cancelled();
                if (item instanceof Run run) {
                    await(next);
                    following = walk.peekRun();
                    if (prefetch) next = following != null ? fetcher.submit(fetchTask(src, h, following, bufs)) : null;
                    // Hashes are checked here, not on the fetch thread, so that they overlap the next
                    // run's download instead of delaying the next request (docs/benchmarks.md).
                    byte[] buf = bufs[run.buffer()];
                    checkRun(src, h, run, buf);
                    writeRun(slot, journal, codec, prefix, run, buf, raw, tally, flush);
                    journal.fetched(fetchedTotal.getAsLong());
                    if (!prefetch) next = following != null ? fetcher.submit(fetchTask(src, h, following, bufs)) : null;
                } else {
                    copyRun(src, h, slot, activeCh, journal, codec, prefix, (Reuse) item, raw, index, notes, tally, reusedBytes,
                            fetchedTotal, flush, cancelled);
                }
                if (flush.due() || walk.done() || cancelled.getAsBoolean()) flush.now();
            }
            flush.now();
            readBack.finish();
            totalReused = new long[] {journal.reusedBytes((i, c) -> layouts.get(i).length(c)), journal.reusedChunks(), fetchedTotal.getAsLong()};
        } catch (IOException e) {
            throw AgentException.io(target.slot(), e);
        } finally {
            if (next != null) next.cancel(true);
            fetcher.shutdownNow();
            if (activeCh != null) {
                try {
                    activeCh.close();
                } catch (IOException e) {
                    // read-only channel: nothing to lose
                }
            }
        }
        return new FillReport(src.bytesFetched() - fetchedBefore, tally[0], reusedBytes[0], tally[1], totalReused[2], totalReused[0],
                (int) totalReused[1], indexBuilt[0], notes);
    }

    /**
     * Copies chunk {@code j} of a reuse run from where the unit holds it, after hashing it against the
     * signed identity; bytes that no longer match are fetched instead (and a stale index is dropped).
     */
    /*
     * The loops over a run's chunks are methods of their own, so that the plan's loop above turns once per
     * run, not once per chunk: past ~28,000 turns C2 compiles the loop's method on the stack, and this
     * one's 1,700 bytes of bytecode took ~12 MiB of compiler memory at once in a 4 GiB install (52,000
     * chunks; docs/benchmarks.md, "Install peak RSS").
     */

    /** Writes a checked run's chunks. */
    private void writeRun(FileChannel slot, DownloadJournal journal, ChunkCodec codec, Prefix prefix, Run run, byte[] buf, byte[] raw,
            int[] tally, Flusher flush) throws IOException, AgentException {
        for (Todo t : run.chunks()) {
            write(slot, journal, codec, prefix, t, buf, (int) (t.l().storedOffset(t.chunk()) - run.offset()), raw);
            tally[0]++;
            flush.add(t);
        }
    }

    /** Copies a run of chunks from the active slot (or the target's own earlier chunks), polling for a newer order between chunks. */
    private void copyRun(BundleSource src, VerifiedHeader h, FileChannel slot, FileChannel activeCh, DownloadJournal journal, ChunkCodec codec,
            Prefix prefix, Reuse r, byte[] raw, ActiveSlotIndex index, List<FillReport.Note> notes, int[] tally, long[] reusedBytes,
            java.util.function.LongSupplier fetchedTotal, Flusher flush, BooleanSupplier cancelled)
            throws IOException, AgentException, InterruptedException, Cancelled {
        for (int j = 0; j < r.count(); j++) {
            if (j > 0 && cancelled.getAsBoolean()) {
                flush.now(); // as between plan items: what was copied is durable and journaled
                throw new Cancelled();
            }
            copy(src, h, slot, activeCh, journal, codec, prefix, r, j, raw, index, notes, tally, reusedBytes, fetchedTotal);
            flush.add(r.chunk(j));
            if (j < r.count() - 1 && flush.due()) flush.now();
        }
    }

    private void copy(BundleSource src, VerifiedHeader h, FileChannel slot, FileChannel activeCh, DownloadJournal journal, ChunkCodec codec,
            Prefix prefix, Reuse r, int j, byte[] raw, ActiveSlotIndex index, List<FillReport.Note> notes, int[] tally, long[] reusedBytes,
            java.util.function.LongSupplier fetchedTotal) throws IOException, AgentException, InterruptedException {
        Todo t = r.chunk(j);
        int len = t.l().length(t.chunk());
        long from = r.from(j);
        if (readFully(r.fromTarget() ? slot : activeCh, from, raw, len) && Sha256.of(raw, 0, len).equals(t.l().identity(t.chunk()))) {
            writeChunk(slot, t.l().offset(t.chunk()), raw, len);
            journal.append(t.image(), t.chunk(), true);
            hook.at("chunk-reused:" + t.image() + ":" + t.chunk());
            tally[1]++;
            reusedBytes[0] += len;
            return;
        }
        notes.add(new FillReport.Note(AgentError.REUSED_CHUNK_CHANGED, t.where() + ": the " + (r.fromTarget() ? "target" : "active")
                + " slot's bytes at " + from + " no longer hash to the chunk's identity; fetched instead"
                + (r.fromTarget() ? "" : ", the index is rebuilt next time")));
        if (!r.fromTarget()) index.invalidate();
        byte[] one = new byte[t.l().storedLength(t.chunk())];
        Run single = new Run(t, 1, t.l().storedOffset(t.chunk()), one.length, -1);
        retrying.run(() -> fetchRun(src, h, single, one), t.where());
        checkRun(src, h, single, one);
        write(slot, journal, codec, prefix, t, one, 0, raw);
        tally[0]++;
        journal.fetched(fetchedTotal.getAsLong());
    }

    private static void report(Listener listener, java.util.function.LongSupplier fetched, DownloadJournal journal, List<ChunkLayout> layouts) {
        listener.progress(fetched.getAsLong(), journal.verifiedChunks(), journal.reusedBytes((i, c) -> layouts.get(i).length(c)),
                journal.reusedChunks());
    }

    /** Fsyncs and journals written chunks in groups (one fsync of the slot and one of the journal per group). */
    private final class Flusher {
        private final FileChannel slot;
        private final DownloadJournal journal;
        private final ReadBack readBack;
        private final Runnable report;
        private final int maxChunks;
        private final List<Todo> unflushed = new ArrayList<>();
        private long bytes;

        Flusher(FileChannel slot, DownloadJournal journal, ReadBack readBack, Runnable report, int maxChunks) {
            this.maxChunks = maxChunks;
            this.slot = slot;
            this.journal = journal;
            this.readBack = readBack;
            this.report = report;
        }

        void add(Todo t) {
            unflushed.add(t);
            bytes += t.l().length(t.chunk());
        }

        boolean due() {
            return unflushed.size() >= maxChunks || bytes >= FLUSH_BYTES;
        }

        void now() throws IOException, AgentException {
            if (unflushed.isEmpty()) return;
            slot.force(false);
            for (Todo u : unflushed) hook.at("chunk-written:" + u.image() + ":" + u.chunk());
            journal.sync();
            for (Todo u : unflushed) hook.at("chunk-journaled:" + u.image() + ":" + u.chunk());
            unflushed.clear();
            bytes = 0;
            readBack.advance(journal);
            report.run();
        }
    }

    /** Decompresses (format 2) and checks one fetched chunk, writes it and names it in the journal. */
    private void write(FileChannel slot, DownloadJournal journal, ChunkCodec codec, Prefix prefix, Todo t, byte[] buf, int at, byte[] raw)
            throws AgentException, IOException {
        ChunkLayout l = t.l();
        int c = t.chunk();
        if (l.compressed()) {
            byte[] dict = prefix.before(l.offset(c), l.image().cdc().prefix());
            try {
                codec.decompress(buf, at, l.storedLength(c), raw, l.length(c), l.identity(c), t.where(), dict);
            } catch (rsuota.bundle.BundleException e) {
                throw new AgentException(AgentError.of(e.reason()), e.getMessage() + (dict == null ? "" : " (decoded against the "
                        + dict.length + " bytes before it on slot " + target.slot() + "; a medium that changed them fails the same way)"));
            }
            writeChunk(slot, l.offset(c), raw, l.length(c));
        } else {
            writeChunk(slot, l.offset(c), at == 0 ? buf : java.util.Arrays.copyOfRange(buf, at, at + l.length(c)), l.length(c));
        }
        journal.append(t.image(), c, false);
    }

    /** Reads the image bytes just before a chunk back from the target slot: its dictionary (format 2 {@code prefix}). */
    private static final class Prefix {
        private final FileChannel slot;
        private final byte[] full;

        Prefix(FileChannel slot, int max) {
            this.slot = slot;
            this.full = new byte[max];
        }

        /** The {@code min(size, offset)} bytes before {@code offset}; every chunk before it is written (chunks go in order). */
        byte[] before(long offset, int size) throws IOException {
            int n = (int) Math.min(size, offset);
            if (n == 0) return null;
            byte[] b = n == full.length ? full : new byte[n];
            if (!readFully(slot, offset - n, b, n)) throw new IOException("slot ended before offset " + offset);
            return b;
        }
    }

    /**
     * A fill's plan in slot order: stretches of chunks to fetch ({@link Run}s without length and buffer,
     * which {@link Walk} cuts into requests) and {@link Reuse}s, held packed in 20 bytes an item and made
     * into records as they are asked for. A 4 GiB image of fresh bytes took 16,000 runs as records (a run
     * and its first chunk), 1.1 MiB of an install's heap through the fill (docs/benchmarks.md, "Install
     * peak RSS"); it is one stretch now.
     */
    private static final class Plan extends java.util.AbstractList<Object> {
        private static final int RUN = 0;
        private static final int FROM_ACTIVE = 1;
        private static final int FROM_TARGET = 2;
        private final List<ChunkLayout> layouts;
        /** Per item: image << 2 | kind, first chunk, chunk count. */
        private int[] ints = new int[3 * 16];
        /** Per item: where a reuse copies from (0 for a stretch: {@link Walk} reads its offsets from the layout). */
        private long[] longs = new long[16];
        private int size;

        Plan(List<ChunkLayout> layouts) {
            this.layouts = layouts;
        }

        @Override
        public Object get(int k) {
            java.util.Objects.checkIndex(k, size);
            int head = ints[3 * k];
            int image = head >>> 2;
            int kind = head & 3;
            ChunkLayout l = layouts.get(image);
            if (kind == RUN) return new Run(new Todo(image, ints[3 * k + 1], l), ints[3 * k + 2], longs[k], 0, 0);
            return new Reuse(l, image, ints[3 * k + 1], ints[3 * k + 2], longs[k], kind == FROM_TARGET);
        }

        @Override
        public Object set(int k, Object item) {
            Object was = get(k);
            encode(k, item);
            return was;
        }

        private void encode(int k, Object item) {
            if (item instanceof Run r) {
                put(k, r.first().image() << 2 | RUN, r.first().chunk(), r.count(), r.offset());
            } else {
                Reuse u = (Reuse) item;
                put(k, u.image() << 2 | (u.fromTarget() ? FROM_TARGET : FROM_ACTIVE), u.index(), u.count(), u.from());
            }
        }

        @Override
        public boolean add(Object item) {
            if (size == longs.length) {
                longs = java.util.Arrays.copyOf(longs, 2 * size);
                ints = java.util.Arrays.copyOf(ints, 6 * size);
            }
            encode(size++, item);
            return true;
        }

        private void put(int k, int head, int chunk, int count, long where) {
            ints[3 * k] = head;
            ints[3 * k + 1] = chunk;
            ints[3 * k + 2] = count;
            longs[k] = where;
        }

        @Override
        public int size() {
            return size;
        }
    }

    /** Chunks to write, in slot order: reused from the active slot where the index has them, else fetched in runs. */
    private static List<Object> plan(List<ChunkLayout> layouts, DownloadJournal journal, ActiveSlotIndex index) {
        List<Object> plan = new Plan(layouts);
        Todo runFirst = null; // the stretch being gathered: runCount chunks from runFirst, stored bytes up to runEnd
        int runCount = 0;
        long runEnd = 0;
        for (int i = 0; i < layouts.size(); i++) {
            ChunkLayout l = layouts.get(i);
            boolean dedup = l.compressed() && layouts.size() == 1;
            // a chunk the new image holds earlier too is copied from there: that earlier one is on the
            // target slot already (done) or written before this one (fetched, reused or copied itself)
            int[] first = dedup ? l.firstOccurrences() : null;
            for (int c = 0; c < l.count(); c++) {
                if (journal.isDone(i, c)) continue;
                ActiveSlotIndex.Entry from = index == null ? null : index.find(l.identity(c));
                boolean twin = from == null && first != null && first[c] < c;
                boolean extend = !twin && from == null && runFirst != null && runFirst.image() == i && runFirst.chunk() + runCount == c
                        && l.storedOffset(c) == runEnd;
                if (runFirst != null && !extend) {
                    plan.add(new Run(runFirst, runCount, 0, 0, 0));
                    runFirst = null;
                }
                if (twin) {
                    plan.add(new Reuse(l, i, c, 1, l.offset(first[c]), true));
                    continue;
                }
                if (from != null && from.length() == l.length(c)) {
                    // the next chunk of the image is the next chunk of the active slot: one record for both
                    if (!plan.isEmpty() && plan.get(plan.size() - 1) instanceof Reuse last && !last.fromTarget() && last.image() == i
                            && last.index() + last.count() == c && last.from(last.count() - 1) + l.length(c - 1) == from.offset()) {
                        plan.set(plan.size() - 1, new Reuse(l, i, last.index(), last.count() + 1, last.from(), false));
                    } else {
                        plan.add(new Reuse(l, i, c, 1, from.offset(), false));
                    }
                    continue;
                }
                if (runFirst == null) {
                    runFirst = new Todo(i, c, l);
                    runCount = 0;
                }
                runCount++;
                runEnd = l.storedOffset(c) + l.storedLength(c);
            }
        }
        if (runFirst != null) plan.add(new Run(runFirst, runCount, 0, 0, 0));
        return plan;
    }

    /**
     * Walks a plan item by item, cutting each stretch of chunks to fetch (a {@link Run} of the plan: its
     * first chunk and count; offset, length and buffer not set) into the runs fetched with one request
     * each: at most {@code runCap} stored bytes, at least one chunk, buffers alternating. The plan holds
     * one item per stretch, so a full install of any size plans one item, not one per request (16,000 for
     * a 4 GiB image; docs/benchmarks.md).
     */
    private static final class Walk {
        private final List<Object> plan;
        private final int runCap;
        private int item;
        private int taken; // chunks of the current stretch already handed out
        private int runs;

        Walk(List<Object> plan, int runCap) {
            this.plan = plan;
            this.runCap = runCap;
        }

        /** The next run or reuse, or null when the plan is done. */
        Object next() {
            if (item >= plan.size()) return null;
            Object o = plan.get(item);
            if (!(o instanceof Run stretch)) {
                item++;
                return o;
            }
            Todo first = stretch.first();
            ChunkLayout l = first.l();
            int c0 = first.chunk() + taken;
            long start = l.storedOffset(c0);
            int k = 1;
            // Bounded by the stretch's chunk count.
            while (taken + k < stretch.count() && l.storedOffset(c0 + k) + l.storedLength(c0 + k) - start <= runCap) k++;
            taken += k;
            if (taken == stretch.count()) {
                item++;
                taken = 0;
            }
            return new Run(new Todo(first.image(), c0, l), k, start, (int) (l.storedOffset(c0 + k - 1) + l.storedLength(c0 + k - 1) - start),
                    runs++ % 2);
        }

        /** The next run {@link #next} will hand out (past any reuses before it), or null if none is left. */
        Run peekRun() {
            int i = item;
            int t = taken;
            int r = runs;
            try {
                // Bounded by the plan's size.
                for (Object o = next(); o != null; o = next()) {
                    if (o instanceof Run run) return run;
                }
                return null;
            } finally {
                item = i;
                taken = t;
                runs = r;
            }
        }

        boolean done() {
            return item >= plan.size();
        }
    }

    /**
     * Fetches a run in one request; after a transient failure the retries fetch it chunk by chunk,
     * keeping the chunks that arrived, so a link whose connections die sooner than a run lasts still
     * makes progress, and a cut costs at most one chunk more.
     */
    private java.util.concurrent.Callable<BundleSource.Fetched> fetchTask(BundleSource src, VerifiedHeader h, Run run, byte[][] bufs) {
        byte[] buf = bufs[run.buffer()];
        int[] piecesDone = {-1}; // -1: whole run not tried yet
        return () -> retrying.run(() -> {
            if (piecesDone[0] < 0 || run.chunks().size() == 1) {
                try {
                    return fetchRun(src, h, run, buf);
                } catch (FetchException e) {
                    if (e.isTransient()) piecesDone[0] = 0;
                    throw e;
                }
            }
            while (piecesDone[0] < run.chunks().size()) {
                Todo t = run.chunks().get(piecesDone[0]);
                Run one = new Run(t, 1, t.l().storedOffset(t.chunk()), t.l().storedLength(t.chunk()), -1);
                BundleSource.Fetched f = fetchRun(src, h, one, new byte[one.length()]);
                System.arraycopy(f.data(), 0, buf, (int) (one.offset() - run.offset()), one.length());
                piecesDone[0]++;
            }
            return new BundleSource.Fetched(buf, run.length(), h.identity());
        }, describe(run));
    }

    private static String describe(Run run) {
        Todo first = run.chunks().get(0);
        return run.chunks().size() == 1 ? first.where() : first.where() + " and the next " + (run.chunks().size() - 1);
    }

    private BundleSource.Fetched fetchRun(BundleSource src, VerifiedHeader h, Run run, byte[] buf) throws FetchException, InterruptedException {
        BundleSource.Fetched f = src.fetch(h.payloadOffset() + run.offset(), run.length(), h.identity(), buf);
        hook.bytes(src.bytesFetched());
        if (f.length() != run.length()) throw new FetchException(AgentError.CONNECTION_LOST, "short range");
        return f;
    }

    /**
     * Checks every chunk of a fetched run against its signed (stored) hash; a run that differs is
     * fetched again (on this thread) under the same retry policy, the mismatch counting as the
     * first failure.
     */
    private void checkRun(BundleSource src, VerifiedHeader h, Run run, byte[] buf) throws AgentException, InterruptedException {
        boolean[] fetched = {true};
        retrying.run(() -> {
            if (!fetched[0]) fetchRun(src, h, run, buf);
            fetched[0] = false;
            for (Todo t : run.chunks()) {
                int at = (int) (t.l().storedOffset(t.chunk()) - run.offset());
                String got = Sha256.of(buf, at, t.l().storedLength(t.chunk()));
                if (!got.equals(t.l().storedSha256(t.chunk()))) {
                    throw new FetchException(AgentError.CHUNK_HASH_MISMATCH, t.where() + ": SHA-256 " + got + " differs from the signed "
                            + t.l().storedSha256(t.chunk()));
                }
            }
            return null;
        }, describe(run));
    }

    private static boolean readFully(FileChannel ch, long at, byte[] buf, int len) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(buf, 0, len);
        while (bb.position() < len) {
            bb.limit(Math.min(len, bb.position() + WRITE_SLICE)); // as writeChunk: no temporary direct buffer larger than a slice
            if (ch.read(bb, at + bb.position()) < 0) return false;
        }
        return true;
    }

    /** Waits for a prefetch; its failures surface here as if the fetch had run on this thread. */
    private static void await(java.util.concurrent.Future<BundleSource.Fetched> f) throws AgentException, InterruptedException {
        try {
            f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof AgentException de) throw de;
            if (c instanceof InterruptedException ie) throw ie;
            if (c instanceof Error err) throw err; // a test's simulated power cut, or a real VM error
            if (c instanceof RuntimeException re) throw re;
            throw new AgentException(AgentError.DOWNLOAD_ERROR, String.valueOf(c), c);
        }
    }

    /** Writes {@code buf[0, len)} at {@code at} in slices (the JDK's temporary direct buffer stays small); also the header's pieces. */
    static void writeChunk(FileChannel slot, long at, byte[] buf, int len) throws IOException {
        for (int off = 0; off < len; off += WRITE_SLICE) {
            ByteBuffer bb = ByteBuffer.wrap(buf, off, Math.min(WRITE_SLICE, len - off));
            long pos = at + off;
            while (bb.hasRemaining()) pos += slot.write(bb, pos);
        }
    }
}
