package rsuota.agent.download;

import rsuota.agent.AgentException;
import rsuota.agent.AgentError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;
import rsuota.bundle.BundleVerifier;
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
    public static final long FLUSH_BYTES = 16L * 1024 * 1024;
    /**
     * The JDK copies a heap buffer through a cached per-thread direct buffer as large as the write;
     * writing in slices keeps that buffer at 256 KiB instead of a whole chunk (RSS, docs/benchmarks.md).
     */
    static final int WRITE_SLICE = 256 * 1024;

    /** Called after every durable group of chunks (and once before the first). */
    public interface Listener {
        /**
         * @param bytesFetched   body bytes this source received, failed attempts included
         * @param chunksVerified chunks verified and journaled, earlier runs included
         */
        void progress(long bytesFetched, int chunksVerified);
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
    public VerifiedHeader fetchHeader(BundleSource src, String expectedDigest) throws AgentException, InterruptedException {
        return header.fetch(src, expectedDigest);
    }

    /** Verifies a header fetched earlier (kept across a restart) against the bundle identity it came from. */
    public VerifiedHeader verifyHeader(byte[] head, BundleSource.Identity identity, String expectedDigest) throws AgentException {
        return header.verify(head, identity, expectedDigest);
    }

    /** Forgets a download's progress: the next {@link #fill} into this directory starts from the first chunk. */
    public static void deleteJournal(Path journalDir) throws IOException {
        DownloadJournal.delete(journalDir);
    }

    /** One chunk still to fetch. */
    private record Todo(int image, int chunk, long offset, int length, String sha256, ManifestImage im) {}

    /**
     * Downloads every chunk the journal does not name into the target slot. {@code cancelled} is
     * polled between chunks (a newer order replaces this one). Returns normally when every chunk
     * and image is verified on the slot.
     */
    public void fill(BundleSource src, VerifiedHeader h, Listener listener, BooleanSupplier cancelled)
            throws AgentException, InterruptedException, Cancelled {
        List<ManifestImage> images = h.manifest().manifest().images();
        int[] counts = images.stream().mapToInt(ManifestImage::chunkCount).toArray();
        // Binds the journal to this bundle on this slot: a journal of another one is discarded.
        String binding = h.manifest().manifestDigest() + " " + target.slot() + " " + h.identity().size() + " " + h.identity().etag();
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
        try (DownloadJournal journal = DownloadJournal.open(target.journalDir(), binding, counts);
             FileChannel slot = target.storage().openForWrite(target.slot());
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
            listener.progress(src.bytesFetched(), journal.verifiedChunks());
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
                    listener.progress(src.bytesFetched(), journal.verifiedChunks());
                }
            }
            readBack.finish();
        } catch (IOException e) {
            throw AgentException.io(target.slot(), e);
        } finally {
            if (next != null) next.cancel(true);
            fetcher.shutdownNow();
        }
    }

    private java.util.concurrent.Callable<BundleSource.Fetched> fetchTask(BundleSource src, VerifiedHeader h, Todo d, byte[] buf) {
        return () -> retrying.run(() -> fetchChunk(src, h, d, buf), "image " + d.im().slotClass() + " chunk " + d.chunk());
    }

    private BundleSource.Fetched fetchChunk(BundleSource src, VerifiedHeader h, Todo d, byte[] buf) throws FetchException, InterruptedException {
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
    private void checkChunk(BundleSource src, VerifiedHeader h, Todo d, byte[] buf) throws AgentException, InterruptedException {
        boolean[] fetched = {true};
        retrying.run(() -> {
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
            if (c instanceof AgentException de) throw de;
            if (c instanceof InterruptedException ie) throw ie;
            if (c instanceof Error err) throw err; // a test's simulated power cut, or a real VM error
            if (c instanceof RuntimeException re) throw re;
            throw new AgentException(AgentError.DOWNLOAD_ERROR, String.valueOf(c), c);
        }
    }

    private static void writeChunk(FileChannel slot, long at, byte[] buf, int len) throws IOException {
        for (int off = 0; off < len; off += WRITE_SLICE) {
            ByteBuffer bb = ByteBuffer.wrap(buf, off, Math.min(WRITE_SLICE, len - off));
            long pos = at + off;
            while (bb.hasRemaining()) pos += slot.write(bb, pos);
        }
    }
}
