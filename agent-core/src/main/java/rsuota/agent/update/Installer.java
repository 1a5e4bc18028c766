package rsuota.agent.update;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.agent.download.BundleSource;
import rsuota.agent.download.DownloadJournal;
import rsuota.agent.download.FetchException;
import rsuota.agent.download.RetryPolicy;
import rsuota.agent.download.Sleeper;
import rsuota.bundle.BundleException;
import rsuota.bundle.BundleFormat;
import rsuota.bundle.BundleHeader;
import rsuota.bundle.BundleVerifier;
import rsuota.bundle.ManifestImage;
import rsuota.bundle.Sha256;
import rsuota.bundle.VerifiedManifest;
import rsuota.hal.boot.Slot;
import rsuota.hal.storage.SlotStorage;

/**
 * Gets a verified bundle onto a slot: header first (verified before any payload byte is
 * requested), then chunk by chunk, each checked against its signed hash before it is written,
 * fsync'd, then journaled; finally the slot is read back and every image hash checked.
 */
final class Installer {
    /** First header request: enough for the header of a multi-GiB bundle at 4 MiB chunks (~20 KiB). */
    static final int FIRST_HEADER_FETCH = 32 * 1024;
    /** Largest chunk held in memory; bigger chunk sizes are refused before downloading. */
    static final int MAX_CHUNK_BUFFER = 16 * 1024 * 1024;
    /** Slot class written to the A/B slot storage. */
    static final String ROOTFS = "rootfs";

    interface Listener {
        void progress(Progress p);
    }

    private final BundleVerifier verifier;
    private final SlotStorage storage;
    private final Path stateDir;
    private final RetryPolicy retry;
    private final Sleeper sleeper;
    private final RandomGenerator random;
    private final CrashHook hook;

    Installer(BundleVerifier verifier, SlotStorage storage, Path stateDir, RetryPolicy retry, Sleeper sleeper,
              RandomGenerator random, CrashHook hook) {
        this.verifier = verifier;
        this.storage = storage;
        this.stateDir = stateDir;
        this.retry = retry;
        this.sleeper = sleeper;
        this.random = random;
        this.hook = hook;
    }

    /** Header, verification and pre-flight checks; nothing is written to any slot. */
    record Header(VerifiedManifest manifest, BundleSource.Identity identity, byte[] headerBytes) {}

    Header fetchHeader(BundleSource src, String expectedDigest, Slot target) throws AgentException, InterruptedException {
        BundleSource.Fetched f = withRetry(() -> src.fetch(0, FIRST_HEADER_FETCH, null, null), "header");
        byte[] head = java.util.Arrays.copyOf(f.data(), f.length());
        long needed = headerLength(head);
        if (needed > head.length) {
            if (needed > BundleFormat.MAX_HEADER_BYTES) throw new AgentException(AgentError.MANIFEST_TOO_LARGE, "bundle header of " + needed + " bytes exceeds the limit");
            BundleSource.Identity id = f.identity();
            BundleSource.Fetched rest = withRetry(() -> src.fetch(head.length, (int) (needed - head.length), id, null), "header");
            byte[] all = java.util.Arrays.copyOf(head, (int) needed);
            System.arraycopy(rest.data(), 0, all, head.length, rest.length());
            return verifyHeader(all, f.identity(), expectedDigest, target);
        }
        return verifyHeader(head, f.identity(), expectedDigest, target);
    }

    /** The header length from the preamble, or the bytes we have if the preamble is cut (the parser then says why). */
    private static long headerLength(byte[] b) throws AgentException {
        if (b.length < BundleFormat.PREAMBLE_BYTES) return b.length;
        long m = Integer.toUnsignedLong(ByteBuffer.wrap(b, 6, 4).getInt());
        if (m > BundleFormat.MAX_MANIFEST_BYTES) {
            throw new AgentException(AgentError.MANIFEST_TOO_LARGE, "manifest length " + m + " exceeds the limit of " + BundleFormat.MAX_MANIFEST_BYTES);
        }
        if (b.length < BundleFormat.PREAMBLE_BYTES + m + 4) return BundleFormat.PREAMBLE_BYTES + m + 4;
        long s = Integer.toUnsignedLong(ByteBuffer.wrap(b, (int) (BundleFormat.PREAMBLE_BYTES + m), 4).getInt());
        if (s > BundleFormat.MAX_SIGNATURE_BYTES) {
            throw new AgentException(AgentError.SIGNATURE_TOO_LARGE, "signature length " + s + " exceeds the limit");
        }
        return BundleFormat.PREAMBLE_BYTES + m + 4 + s;
    }

    Header verifyHeader(byte[] head, BundleSource.Identity identity, String expectedDigest, Slot target) throws AgentException {
        VerifiedManifest vm;
        try {
            BundleHeader h = BundleHeader.read(new ByteArrayInputStream(head));
            vm = verifier.verifyHeader(h);
        } catch (BundleException e) {
            throw new AgentException(AgentError.of(e.reason()), e.getMessage());
        } catch (IOException e) {
            throw new AgentException(AgentError.TRUNCATED, "header cannot be read: " + e.getMessage());
        }
        if (expectedDigest != null && !expectedDigest.equals(vm.manifestDigest())) {
            throw new AgentException(AgentError.BUNDLE_MISMATCH, "the bundle's manifest digest " + vm.manifestDigest()
                    + " is not the one ordered (" + expectedDigest + "): wrong or replaced bundle");
        }
        long total = vm.payloadOffset() + vm.manifest().payloadSize();
        if (identity.size() != total) {
            throw new AgentException(AgentError.TRUNCATED, "bundle is " + identity.size() + " bytes but its manifest accounts for " + total);
        }
        ManifestImage rootfs = vm.manifest().image(ROOTFS);
        if (rootfs == null) {
            throw new AgentException(AgentError.NO_ROOTFS_IMAGE, "bundle has no '" + ROOTFS + "' image; this device installs slot class rootfs");
        }
        for (ManifestImage im : vm.manifest().images()) {
            if (!im.slotClass().equals(ROOTFS)) {
                throw new AgentException(AgentError.UNKNOWN_SLOT_CLASS, "bundle image '" + im.slotClass()
                        + "' has no slot on this device (configured: " + ROOTFS + ")");
            }
            if (im.chunkSize() > MAX_CHUNK_BUFFER) {
                throw new AgentException(AgentError.CHUNK_TOO_LARGE, "chunk size " + im.chunkSize() + " exceeds this agent's "
                        + MAX_CHUNK_BUFFER + "-byte buffer; rebuild the bundle with --chunk-size 4MiB");
            }
        }
        try {
            long slotSize = storage.size(target);
            if (rootfs.size() > slotSize) {
                throw new AgentException(AgentError.IMAGE_TOO_LARGE, "image rootfs is " + rootfs.size() + " bytes but slot "
                        + target + " (" + storage.describe(target) + ") holds " + slotSize);
            }
            long journalBytes = 4096L + 24L * rootfs.chunkCount() + head.length;
            long free = Files.getFileStore(stateDir).getUsableSpace();
            if (free < journalBytes + 1024 * 1024) {
                throw new AgentException(AgentError.NO_SPACE, "state directory " + stateDir + " has " + free
                        + " bytes free; the download journal needs " + journalBytes + " plus 1 MiB headroom");
            }
        } catch (IOException e) {
            throw new AgentException(AgentError.SLOT_IO_ERROR, "slot " + target + " (" + storage.describe(target) + "): " + e.getMessage());
        }
        return new Header(vm, identity, head);
    }

    /**
     * Downloads every missing chunk into {@code target}. {@code cancelled} is polled between chunks
     * (a newer order replaces this one). Returns normally when every chunk and image is verified
     * on the slot.
     */
    /**
     * Written chunks are fsync'd and journaled in groups (one fsync of the slot and one of the
     * journal per group): at most this many chunks or bytes. A power cut loses at most one group
     * of progress, never correctness (the journal only names fsync'd chunks).
     */
    static final int FLUSH_CHUNKS = 4;
    static final long FLUSH_BYTES = 16L * 1024 * 1024;

    /** One chunk still to fetch. */
    private record Todo(int image, int chunk, long offset, int length, String sha256, ManifestImage im) {}

    void download(BundleSource src, Header h, Slot target, EngineState.Target t, Listener listener, BooleanSupplier cancelled)
            throws AgentException, InterruptedException, Cancelled {
        List<ManifestImage> images = h.manifest().manifest().images();
        int[] counts = images.stream().mapToInt(ManifestImage::chunkCount).toArray();
        String binding = t.manifestDigest() + " " + target + " " + t.bundleSize() + " " + t.etag();
        int total = t.chunksTotal();
        int maxChunk = images.stream().mapToInt(ManifestImage::chunkSize).max().orElse(0);
        // Two buffers: the next chunk downloads (and is hash-checked) on a worker while this one is
        // written, fsync'd and journaled. Order on the slot and in the journal stays sequential.
        byte[][] bufs = {new byte[maxChunk], new byte[maxChunk]};
        java.util.concurrent.ExecutorService fetcher = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, "rsu-fetch");
            th.setDaemon(true);
            return th;
        });
        java.util.concurrent.Future<BundleSource.Fetched> next = null;
        try (DownloadJournal journal = DownloadJournal.open(stateDir, binding, counts);
             FileChannel slot = storage.openForWrite(target);
             ReadBack readBack = new ReadBack(images, target)) {
            long base = h.manifest().payloadOffset();
            List<Todo> todo = new java.util.ArrayList<>();
            for (int i = 0; i < images.size(); i++) {
                ManifestImage im = images.get(i);
                for (int c = 0; c < im.chunkCount(); c++) {
                    if (!journal.isDone(i, c)) {
                        todo.add(new Todo(i, c, base + im.offset() + im.chunkOffset(c), im.chunkLength(c), im.chunks().get(c), im));
                    }
                }
            }
            listener.progress(new Progress(t.release(), src.bytesFetched(), journal.verifiedChunks(), total, t.payloadBytes()));
            readBack.advance(journal);
            List<Todo> unflushed = new java.util.ArrayList<>();
            long unflushedBytes = 0;
            if (!todo.isEmpty()) next = fetcher.submit(fetchTask(src, h, todo.get(0), bufs[0]));
            for (int k = 0; k < todo.size(); k++) {
                Todo d = todo.get(k);
                if (cancelled.getAsBoolean()) throw new Cancelled();
                await(next);
                next = k + 1 < todo.size() ? fetcher.submit(fetchTask(src, h, todo.get(k + 1), bufs[(k + 1) % 2])) : null;
                // The hash is checked here, not on the fetch thread, so that it overlaps the next
                // chunk's download instead of delaying the next request (docs/benchmarks.md).
                checkChunk(src, h, d, bufs[k % 2]);
                writeChunk(slot, d.im().chunkOffset(d.chunk()), bufs[k % 2], d.length());
                unflushed.add(d);
                unflushedBytes += d.length();
                if (unflushed.size() >= FLUSH_CHUNKS || unflushedBytes >= FLUSH_BYTES || k == todo.size() - 1
                        || cancelled.getAsBoolean()) {
                    // The journal may only name chunks whose bytes are on the medium.
                    slot.force(false);
                    for (Todo u : unflushed) hook.at("chunk-written:" + u.image() + ":" + u.chunk());
                    journal.record(unflushed.stream().map(u -> new int[] {u.image(), u.chunk()}).toList());
                    for (Todo u : unflushed) hook.at("chunk-journaled:" + u.image() + ":" + u.chunk());
                    unflushed.clear();
                    unflushedBytes = 0;
                    readBack.advance(journal);
                    listener.progress(new Progress(t.release(), src.bytesFetched(), journal.verifiedChunks(), total, t.payloadBytes()));
                }
            }
            readBack.finish();
        } catch (IOException e) {
            throw ioFailure(target, e);
        } finally {
            if (next != null) next.cancel(true);
            fetcher.shutdownNow();
        }
    }

    /** Read-back buffer: large enough that a read costs little per byte, small for the heap. */
    static final int READ_BACK_BUFFER = 256 * 1024;

    /**
     * Reads every image back from the slot and hashes it, on its own thread, behind the writer:
     * whenever the journal's contiguous prefix of an image grows (those bytes are fsync'd), the
     * next stretch is read back, so the second pass over the data overlaps the download instead of
     * following it. Storage that acknowledges writes it did not keep is caught by the image hash
     * in {@link #finish}; a resumed download reads back from byte 0 again, old chunks included.
     */
    private final class ReadBack implements AutoCloseable {
        private final List<ManifestImage> images;
        private final Slot target;
        private final FileChannel ch;
        private final MessageDigest[] digests;
        private final long[] readTo; // worker thread only
        private final int[] prefix;  // caller thread only: chunks of each image known done in order
        // Direct: the kernel copies into it once and the digest reads it in place, where a heap
        // buffer costs a second copy of every byte through the JDK's temporary direct buffer.
        private final ByteBuffer bb = ByteBuffer.allocateDirect(READ_BACK_BUFFER);
        private final java.util.concurrent.ExecutorService worker;
        private volatile AgentException failure;
        private java.util.concurrent.Future<?> last;

        ReadBack(List<ManifestImage> images, Slot target) throws IOException {
            this.images = images;
            this.target = target;
            this.ch = storage.openForRead(target);
            this.digests = new MessageDigest[images.size()];
            for (int i = 0; i < digests.length; i++) digests[i] = Sha256.newDigest();
            this.readTo = new long[images.size()];
            this.prefix = new int[images.size()];
            this.worker = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread th = new Thread(r, "rsu-readback");
                th.setDaemon(true);
                return th;
            });
        }

        /** Queues the read-back of every image's newly contiguous journaled chunks; surfaces an earlier failure. */
        void advance(DownloadJournal journal) throws AgentException {
            if (failure != null) throw failure;
            for (int i = 0; i < images.size(); i++) {
                ManifestImage im = images.get(i);
                int p = prefix[i];
                while (p < im.chunkCount() && journal.isDone(i, p)) p++;
                if (p == prefix[i]) continue;
                prefix[i] = p;
                long limit = p == im.chunkCount() ? im.size() : im.chunkOffset(p);
                int image = i;
                last = worker.submit(() -> read(image, limit));
            }
        }

        /** Reads what is left and checks every image hash. */
        void finish() throws AgentException, InterruptedException {
            for (int i = 0; i < images.size(); i++) {
                int image = i;
                long size = images.get(i).size();
                last = worker.submit(() -> read(image, size));
            }
            try {
                last.get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new AgentException(AgentError.SLOT_IO_ERROR, "read-back of slot " + target + ": " + e.getCause(), e.getCause());
            }
            if (failure != null) throw failure;
            for (int i = 0; i < images.size(); i++) {
                ManifestImage im = images.get(i);
                String got = Sha256.hex(digests[i].digest());
                if (!got.equals(im.sha256())) {
                    throw new AgentException(AgentError.IMAGE_HASH_MISMATCH, "read-back of slot " + target + " (" + storage.describe(target)
                            + "): image '" + im.slotClass() + "' SHA-256 " + got + " differs from the signed " + im.sha256()
                            + "; the storage did not keep what was written");
                }
            }
        }

        private void read(int image, long limit) {
            if (failure != null) return;
            try {
                long pos = readTo[image];
                while (pos < limit) {
                    bb.clear().limit((int) Math.min(bb.capacity(), limit - pos));
                    int n = ch.read(bb, pos);
                    if (n < 0) {
                        failure = new AgentException(AgentError.SLOT_IO_ERROR, "slot " + target + " ended at " + pos + " bytes while reading back");
                        return;
                    }
                    bb.flip();
                    digests[image].update(bb);
                    pos += n;
                }
                readTo[image] = pos;
            } catch (IOException e) {
                failure = ioFailure(target, e);
            }
        }

        @Override
        public void close() throws IOException {
            worker.shutdownNow();
            ch.close();
        }
    }

    private java.util.concurrent.Callable<BundleSource.Fetched> fetchTask(BundleSource src, Header h, Todo d, byte[] buf) {
        return () -> withRetry(() -> fetchChunk(src, h, d, buf), "image " + d.im().slotClass() + " chunk " + d.chunk());
    }

    private BundleSource.Fetched fetchChunk(BundleSource src, Header h, Todo d, byte[] buf) throws FetchException, InterruptedException {
        BundleSource.Fetched f = src.fetch(d.offset(), d.length(), h.identity(), buf);
        hook.bytes(src.bytesFetched());
        if (f.length() != d.length()) throw new FetchException(AgentError.CONNECTION_LOST, "short chunk");
        return f;
    }

    /**
     * Checks the fetched chunk in {@code buf} against its signed hash; a chunk that differs is
     * fetched again (on this thread) under the same retry policy, the mismatch counting as the
     * first failure.
     */
    private void checkChunk(BundleSource src, Header h, Todo d, byte[] buf) throws AgentException, InterruptedException {
        boolean[] fetched = {true};
        withRetry(() -> {
            if (!fetched[0]) fetchChunk(src, h, d, buf);
            fetched[0] = false;
            String got = Sha256.of(buf, 0, d.length());
            if (!got.equals(d.sha256())) {
                throw new FetchException(AgentError.CHUNK_HASH_MISMATCH, "image '" + d.im().slotClass() + "' chunk " + d.chunk() + " of "
                        + d.im().chunkCount() + ": SHA-256 " + got + " differs from the signed " + d.sha256());
            }
            return null;
        }, "image " + d.im().slotClass() + " chunk " + d.chunk());
    }

    /** Waits for a prefetch; its failures surface here as if the fetch had run on this thread. */
    private static void await(java.util.concurrent.Future<BundleSource.Fetched> f) throws AgentException, InterruptedException {
        try {
            f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof AgentException ie) throw ie;
            if (c instanceof InterruptedException ie) throw ie;
            if (c instanceof Error err) throw err; // a test's simulated power cut, or a real VM error
            if (c instanceof RuntimeException re) throw re;
            throw new AgentException(AgentError.DOWNLOAD_ERROR, String.valueOf(c), c);
        }
    }

    /**
     * The JDK copies a heap buffer through a cached per-thread direct buffer as large as the write;
     * writing in slices keeps that buffer at 256 KiB instead of a whole chunk (RSS, docs/benchmarks.md).
     */
    static final int WRITE_SLICE = 256 * 1024;

    private static void writeChunk(FileChannel slot, long at, byte[] buf, int len) throws IOException {
        for (int off = 0; off < len; off += WRITE_SLICE) {
            ByteBuffer bb = ByteBuffer.wrap(buf, off, Math.min(WRITE_SLICE, len - off));
            long pos = at + off;
            while (bb.hasRemaining()) pos += slot.write(bb, pos);
        }
    }

    static AgentException ioFailure(Slot target, IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("No space left")) return new AgentException(AgentError.NO_SPACE, "no space left: " + m, e);
        if (m.contains("Read-only file system")) return new AgentException(AgentError.READ_ONLY, "read-only file system: " + m, e);
        return new AgentException(AgentError.SLOT_IO_ERROR, "slot " + target + ": " + e, e);
    }

    /** A newer order replaced this one. */
    static final class Cancelled extends Exception {
        Cancelled() {
            super("cancelled by a newer order");
        }
    }

    interface Attempt {
        BundleSource.Fetched run() throws FetchException, InterruptedException;
    }

    /** Runs {@code a}, retrying transient failures with backoff until the consecutive-failure cap. */
    private BundleSource.Fetched withRetry(Attempt a, String what) throws AgentException, InterruptedException {
        int failures = 0;
        while (true) {
            try {
                return a.run();
            } catch (FetchException e) {
                if (!e.isTransient()) throw e.withContext(what + ": ");
                failures++;
                if (failures >= retry.maxConsecutiveFailures()) {
                    throw e.withContext(what + ": giving up after " + failures + " consecutive failures; last: ");
                }
                sleeper.sleep(retry.delay(failures, e.retryAfter(), random));
            }
        }
    }
}
