package rsuota.hal.storage;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Small files that must be either the old or the new version after a power cut: written to a
 * temporary sibling, fsync'd, renamed over the target (atomic on POSIX file systems), and, when
 * the rename itself must survive a power cut, the directory fsync'd too. The one implementation
 * the agent's state, journal, outbox pointers, locks and the simulated bootloader share.
 */
public final class DurableFiles {

    private DurableFiles() {}

    /** Suffix of temporaries ({@code NAME.tmp}); a leftover is overwritten by the next write of NAME. */
    public static final String TMP_SUFFIX = ".tmp";

    /** {@link #writeAtomically(Path, byte[], boolean)} with the directory fsync'd: the new version survives a power cut. */
    public static void writeAtomically(Path target, byte[] content) throws IOException {
        writeAtomically(target, content, true);
    }

    /**
     * Replaces {@code target} with {@code content} atomically, creating its directory if needed.
     *
     * @param syncDirectory also fsync the directory, so the new version is the one found after a
     *                      power cut (without it, either version may be found, each complete)
     */
    public static void writeAtomically(Path target, byte[] content, boolean syncDirectory) throws IOException {
        Path tmp = temporary(target);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(content));
            ch.force(true);
        }
        replace(tmp, target, syncDirectory);
    }

    /** What a streamed {@link #writeAtomically(Path, Content)} writes. */
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * {@link #writeAtomically(Path, byte[])} for content written as a stream (through an 8 KiB
     * buffer), for files too large to hold twice in a small heap (the active slot's index).
     */
    public static void writeAtomically(Path target, Content content) throws IOException {
        Path tmp = temporary(target);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 8192);
            content.writeTo(out);
            out.flush();
            ch.force(true);
        }
        replace(tmp, target, true);
    }

    /**
     * Renames {@code written} (a file its writer fsync'd) over {@code target} atomically and fsyncs the
     * directory: a file streamed into place piece by piece (a fetched bundle header) becomes the kept one.
     */
    public static void moveAtomically(Path written, Path target) throws IOException {
        replace(written, target, true);
    }

    private static Path temporary(Path target) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        return target.resolveSibling(target.getFileName() + TMP_SUFFIX);
    }

    private static void replace(Path tmp, Path target, boolean syncDirectory) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("file system of " + dir + " cannot rename atomically; state needs a local POSIX file system", e);
        }
        if (syncDirectory) fsyncDirectory(dir);
    }

    /**
     * {@link Files#readAllBytes} in reads of at most {@value #WRITE_SLICE} bytes, for the same reason
     * as {@link #writeFully}: the JDK would read the whole file through a direct buffer of its size.
     */
    public static byte[] readAll(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE - 8) throw new IOException(file + " is too large to read into memory (" + size + " bytes)");
            byte[] b = new byte[(int) size];
            ByteBuffer bb = ByteBuffer.wrap(b);
            while (bb.position() < b.length) {
                bb.limit(Math.min(b.length, bb.position() + WRITE_SLICE));
                if (ch.read(bb) < 0) return java.util.Arrays.copyOf(b, bb.position()); // shrank while read
            }
            return b;
        }
    }

    /** Deletes {@code file} durably; returns whether it existed. */
    public static boolean delete(Path file) throws IOException {
        boolean existed = Files.deleteIfExists(file);
        if (existed) fsyncDirectory(file.toAbsolutePath().getParent());
        return existed;
    }

    /** Makes renames and file creations in {@code dir} durable (Linux: fsync on the directory fd). */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * Largest single write: the JDK copies a heap buffer through a temporary direct buffer of the
     * write's size, and keeps it for the thread; a 2 MiB header written at once would pin 2 MiB.
     */
    static final int WRITE_SLICE = 64 * 1024;

    public static void writeFully(FileChannel ch, ByteBuffer... buffers) throws IOException {
        if (buffers.length == 1 && buffers[0].remaining() > WRITE_SLICE) {
            ByteBuffer b = buffers[0];
            int end = b.limit();
            // Each write moves at least one byte or throws; the limit bounds the loop.
            while (b.position() < end) {
                b.limit(Math.min(end, b.position() + WRITE_SLICE));
                ch.write(b);
            }
            b.limit(end);
            return;
        }
        long total = 0;
        for (ByteBuffer b : buffers) total += b.remaining();
        long written = 0;
        // Each write moves at least one byte or throws; total bounds the loop.
        while (written < total) written += ch.write(buffers);
    }
}
