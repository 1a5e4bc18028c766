package rsuota.bundle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A verified manifest whose per-chunk tables live in a file instead of the heap: what keeps a unit's
 * install memory independent of the image's chunk count (a 2 GiB image names 28,000 chunks, 2.5 MiB
 * of tables; docs/benchmarks.md, "Install peak RSS"). Each table's blocks ({@link DigestList#BLOCK}
 * chunks) are written once and read back on demand, two blocks cached per table: the fill walks
 * chunks in order. Every block read back is checked against the SHA-256 taken when it was written,
 * held in memory (32 bytes a block), so nothing on disk is trusted: a changed block is an
 * {@link UncheckedIOException}, never a different digest. The file is opened per block read, so a
 * spilled manifest holds no descriptor and needs no closing; the next spill to the same path
 * replaces it.
 */
public final class SpilledTables {
    private SpilledTables() {}

    /** {@code m} with each format 2 image's identities and stored table spilled to {@code file} (created or replaced). */
    public static Manifest spill(Manifest m, Path file) throws IOException {
        List<ManifestImage> images = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (ManifestImage im : m.images()) {
                if (!im.compressed() || !(im.chunks() instanceof DigestList ids) || !(im.cdc().stored() instanceof StoredList stored)) {
                    images.add(im);
                    continue;
                }
                ManifestImage.Cdc c = im.cdc();
                images.add(new ManifestImage(im.slotClass(), im.offset(), im.size(), im.sha256(), im.chunkSize(), ids.spill(ch, file),
                        new ManifestImage.Cdc(c.min(), c.avg(), c.compression(), c.prefix(), stored.spill(ch, file))));
            }
        }
        return new Manifest(m.release(), m.securityVersion(), m.compatible(), m.components(), m.createdAt(), images);
    }

    /** A table's blocks in the file, each checked on its way back; decoded blocks cached two at a time. */
    static final class Table<T> {
        private final Path file;
        private final long[] starts;
        private final byte[][] hashes;
        private final Function<byte[], T> decode;
        private int c0 = -1;
        private int c1 = -1;
        private T b0;
        private T b1;

        private Table(Path file, long[] starts, byte[][] hashes, Function<byte[], T> decode) {
            this.file = file;
            this.starts = starts;
            this.hashes = hashes;
            this.decode = decode;
        }

        /** Appends {@code blocks} (encoded) at the channel's end and returns the table that reads them back. */
        static <T> Table<T> write(FileChannel ch, Path file, List<byte[]> blocks, Function<byte[], T> decode) throws IOException {
            long[] starts = new long[blocks.size() + 1];
            byte[][] hashes = new byte[blocks.size()][];
            long at = ch.size();
            for (int b = 0; b < blocks.size(); b++) {
                starts[b] = at;
                byte[] block = blocks.get(b);
                hashes[b] = Sha256.newDigest().digest(block);
                ByteBuffer bb = ByteBuffer.wrap(block);
                while (bb.hasRemaining()) at += ch.write(bb, at);
            }
            starts[blocks.size()] = at;
            return new Table<>(file, starts, hashes, decode);
        }

        synchronized T block(int b) {
            if (b == c0) return b0;
            if (b == c1) {
                T t = b1;
                c1 = c0;
                b1 = b0;
                c0 = b;
                b0 = t;
                return t;
            }
            T t = decode.apply(read(b));
            c1 = c0;
            b1 = b0;
            c0 = b;
            b0 = t;
            return t;
        }

        private byte[] read(int b) {
            byte[] block = new byte[(int) (starts[b + 1] - starts[b])];
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer bb = ByteBuffer.wrap(block);
                while (bb.hasRemaining()) {
                    if (ch.read(bb, starts[b] + bb.position()) < 0) break;
                }
                if (bb.hasRemaining() || !MessageDigest.isEqual(Sha256.newDigest().digest(block), hashes[b])) {
                    throw new IOException("manifest table file " + file + " changed on disk (block " + b + " at byte " + starts[b]
                            + " does not read back as written); order the install again: its header is verified again");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return block;
        }
    }
}
