package rsuota.hal.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
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
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = target.resolveSibling(target.getFileName() + TMP_SUFFIX);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(content));
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("file system of " + dir + " cannot rename atomically; state needs a local POSIX file system", e);
        }
        if (syncDirectory) fsyncDirectory(dir);
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

    public static void writeFully(FileChannel ch, ByteBuffer... buffers) throws IOException {
        long total = 0;
        for (ByteBuffer b : buffers) total += b.remaining();
        long written = 0;
        // Each write moves at least one byte or throws; total bounds the loop.
        while (written < total) written += ch.write(buffers);
    }
}
