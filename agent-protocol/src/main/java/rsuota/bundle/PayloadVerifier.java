package rsuota.bundle;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Streams a payload and checks every chunk against the signed list, and every image against its
 * signed SHA-256, in constant memory (a few 1 MiB buffers whatever the image size).
 *
 * <p>Two digests cover every byte (the chunk's and the image's). They run on two threads: the
 * caller's thread reads and hashes chunks, a worker hashes the whole image from the same buffers.
 * On a 2-core box this keeps verification at the speed of one SHA-256 pass (docs/benchmarks.md).
 */
public final class PayloadVerifier {
    /** Piece size handed between threads: big enough to amortise the hand-off, small for memory. */
    static final int PIECE = 1024 * 1024;
    static final int PIECES = 4;

    /** Progress callback: bytes verified so far, total. */
    public interface Progress {
        void update(long done, long total);
    }

    private PayloadVerifier() {}

    /** Reads exactly the manifest's payload from {@code in} (positioned at the payload start). */
    public static void verify(ReadableByteChannel in, Manifest m, Progress progress) throws BundleException, IOException {
        long total = m.payloadSize();
        long done = 0;
        for (ManifestImage im : m.images()) {
            done = im.compressed() ? verifyStoredImage(in, im, done, total, progress) : verifyImage(in, im, done, total, progress);
        }
    }

    /** Format 2: each stored chunk against its signed hash, then inflated against its signed identity. */
    private static long verifyStoredImage(ReadableByteChannel in, ManifestImage im, long done, long total, Progress progress)
            throws BundleException, IOException {
        ChunkLayout l = ChunkLayout.of(im);
        byte[] z = new byte[l.maxStoredLength()];
        byte[] raw = new byte[l.maxLength()];
        MessageDigest image = Sha256.newDigest();
        PrefixWindow window = new PrefixWindow(im.cdc().prefix());
        try (ChunkCodec codec = new ChunkCodec()) {
            for (int c = 0; c < l.count(); c++) {
                ByteBuffer bb = ByteBuffer.wrap(z, 0, l.storedLength(c));
                while (bb.hasRemaining()) {
                    if (in.read(bb) < 0) {
                        throw new BundleException(Reason.TRUNCATED, "payload ends inside image '" + im.slotClass() + "' stored chunk " + c
                                + " (" + (l.storedOffset(c) + bb.position()) + " of " + (im.offset() + im.storedSize()) + " payload bytes)");
                    }
                }
                String where = "image '" + im.slotClass() + "' chunk " + c + " of " + l.count();
                String got = Sha256.of(z, 0, l.storedLength(c));
                if (!got.equals(l.storedSha256(c))) {
                    throw new BundleException(Reason.CHUNK_HASH_MISMATCH, where + " (payload bytes " + l.storedOffset(c) + ".."
                            + (l.storedOffset(c) + l.storedLength(c) - 1) + "): SHA-256 " + got + " differs from the signed " + l.storedSha256(c));
                }
                codec.decompress(z, 0, l.storedLength(c), raw, l.length(c), l.identity(c), where, window.bytes());
                window.append(raw, 0, l.length(c));
                image.update(raw, 0, l.length(c));
                done += l.storedLength(c);
                if (progress != null) progress.update(done, total);
            }
        }
        String got = Sha256.hex(image.digest());
        if (!got.equals(im.sha256())) {
            throw new BundleException(Reason.IMAGE_HASH_MISMATCH, "image '" + im.slotClass() + "': SHA-256 " + got + " differs from the signed " + im.sha256());
        }
        return done;
    }

    private static long verifyImage(ReadableByteChannel in, ManifestImage im, long done, long total, Progress progress)
            throws BundleException, IOException {
        ImageHasher hasher = new ImageHasher();
        try {
            MessageDigest chunkDigest = Sha256.newDigest();
            for (int c = 0; c < im.chunkCount(); c++) {
                int remaining = im.chunkLength(c);
                while (remaining > 0) {
                    ByteBuffer piece = hasher.takeFree();
                    piece.clear().limit(Math.min(PIECE, remaining));
                    while (piece.hasRemaining()) {
                        if (in.read(piece) < 0) {
                            throw new BundleException(Reason.TRUNCATED, "payload ends inside image '" + im.slotClass()
                                    + "' chunk " + c + " (" + (im.chunkOffset(c) + im.chunkLength(c) - remaining + piece.position())
                                    + " of " + im.size() + " bytes)");
                        }
                    }
                    piece.flip();
                    chunkDigest.update(piece.array(), 0, piece.limit());
                    remaining -= piece.limit();
                    done += piece.limit();
                    hasher.submit(piece);
                }
                String got = Sha256.hex(chunkDigest.digest());
                if (!got.equals(im.chunks().get(c))) {
                    throw new BundleException(Reason.CHUNK_HASH_MISMATCH, "image '" + im.slotClass() + "' chunk " + c
                            + " of " + im.chunkCount() + " (bytes " + im.chunkOffset(c) + ".." + (im.chunkOffset(c) + im.chunkLength(c) - 1)
                            + "): SHA-256 " + got + " differs from the signed " + im.chunks().get(c));
                }
                if (progress != null) progress.update(done, total);
            }
            String image = hasher.finish();
            if (!image.equals(im.sha256())) {
                throw new BundleException(Reason.IMAGE_HASH_MISMATCH, "image '" + im.slotClass() + "': SHA-256 " + image
                        + " differs from the signed " + im.sha256());
            }
            return done;
        } finally {
            hasher.close();
        }
    }

    /** A worker thread that folds pieces into the whole-image digest in order. */
    private static final class ImageHasher implements AutoCloseable {
        private static final ByteBuffer END = ByteBuffer.allocate(0);
        private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(PIECES);
        private final BlockingQueue<ByteBuffer> full = new ArrayBlockingQueue<>(PIECES + 1);
        private final MessageDigest digest = Sha256.newDigest();
        private final Thread worker;
        private volatile String result;
        private volatile boolean finished;

        ImageHasher() {
            for (int i = 0; i < PIECES; i++) free.add(ByteBuffer.allocate(PIECE));
            worker = new Thread(this::run, "rsu-image-sha256");
            worker.setDaemon(true);
            worker.start();
        }

        private void run() {
            try {
                while (true) {
                    ByteBuffer b = full.take();
                    if (b == END) break;
                    digest.update(b.array(), 0, b.limit());
                    free.put(b);
                }
                result = Sha256.hex(digest.digest());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        ByteBuffer takeFree() throws IOException {
            try {
                return free.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while verifying");
            }
        }

        void submit(ByteBuffer b) throws IOException {
            try {
                full.put(b);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while verifying");
            }
        }

        String finish() throws IOException {
            submit(END);
            try {
                worker.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while verifying");
            }
            finished = true;
            return result;
        }

        @Override
        public void close() {
            if (!finished) worker.interrupt();
        }
    }
}
