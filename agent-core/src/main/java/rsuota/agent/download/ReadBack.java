package rsuota.agent.download;

import rsuota.agent.AgentException;
import rsuota.agent.AgentError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.util.List;
import rsuota.bundle.ChunkLayout;
import rsuota.bundle.ManifestImage;
import rsuota.bundle.Sha256;

/**
 * Reads every image back from the slot and hashes it, on its own thread ({@code rsu-readback}),
 * behind the writer: whenever the journal's contiguous prefix of an image grows (those bytes are
 * fsync'd), the next stretch is read back, so the second pass over the data overlaps the download
 * instead of following it. Storage that acknowledges writes it did not keep is caught by the image
 * hash in {@link #finish}; a resumed download reads back from byte 0 again, old chunks included.
 */
final class ReadBack implements AutoCloseable {
    /** Read-back buffer: large enough that a read costs little per byte, small for the heap. */
    static final int READ_BACK_BUFFER = 256 * 1024;

    private final List<ChunkLayout> images;
    private final DownloadTarget target;
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

    ReadBack(List<ChunkLayout> images, DownloadTarget target) throws IOException {
        this.images = images;
        this.target = target;
        this.ch = target.storage().openForRead(target.slot());
        this.digests = new MessageDigest[images.size()];
        for (int i = 0; i < digests.length; i++) digests[i] = Sha256.newDigest();
        this.readTo = new long[images.size()];
        this.prefix = new int[images.size()];
        this.worker = java.util.concurrent.Executors.newSingleThreadExecutor(DownloadThreads.factory("rsu-readback"));
    }

    /** Queues the read-back of every image's newly contiguous journaled chunks; surfaces an earlier failure. */
    void advance(DownloadJournal journal) throws AgentException {
        if (failure != null) throw failure;
        for (int i = 0; i < images.size(); i++) {
            ChunkLayout l = images.get(i);
            int p = prefix[i];
            while (p < l.count() && journal.isDone(i, p)) p++;
            if (p == prefix[i]) continue;
            prefix[i] = p;
            long limit = l.offset(p);
            int image = i;
            last = worker.submit(() -> read(image, limit));
        }
    }

    /** Reads what is left and checks every image hash. */
    void finish() throws AgentException, InterruptedException {
        for (int i = 0; i < images.size(); i++) {
            int image = i;
            long size = images.get(i).image().size();
            last = worker.submit(() -> read(image, size));
        }
        try {
            last.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AgentException(AgentError.SLOT_IO_ERROR, "read-back of slot " + target.slot() + ": " + e.getCause(), e.getCause());
        }
        if (failure != null) throw failure;
        for (int i = 0; i < images.size(); i++) {
            ManifestImage im = images.get(i).image();
            String got = Sha256.hex(digests[i].digest());
            if (!got.equals(im.sha256())) {
                throw new AgentException(AgentError.IMAGE_HASH_MISMATCH, "read-back of slot " + target.slot() + " (" + target.describe()
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
                    failure = new AgentException(AgentError.SLOT_IO_ERROR, "slot " + target.slot() + " ended at " + pos + " bytes while reading back");
                    return;
                }
                bb.flip();
                digests[image].update(bb);
                pos += n;
            }
            readTo[image] = pos;
        } catch (IOException e) {
            failure = AgentException.io(target.slot(), e);
        }
    }

    @Override
    public void close() throws IOException {
        worker.shutdownNow();
        ch.close();
    }
}
