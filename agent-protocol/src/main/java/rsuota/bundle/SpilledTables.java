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
 * A manifest whose per-chunk tables live in a file instead of the heap: what keeps a unit's install
 * memory independent of the image's chunk count (a 4 GiB image names 52,000 chunks, 3.8 MiB of
 * tables; docs/benchmarks.md, "Install peak RSS"). The tables go to the file block by block
 * ({@link DigestList#BLOCK} chunks) while the manifest is parsed ({@link BundleHeader#readSpooled(Path, Path)}:
 * the sinks hold one block at a time), and are read back on demand, two blocks cached per table: the
 * fill walks chunks in order. Every block read back is checked against the SHA-256 taken when it was
 * written, held in memory (32 bytes a block), so nothing on disk is trusted: a changed block is an
 * {@link UncheckedIOException}, never a different digest. The file is opened per block read, so a
 * spilled manifest holds no descriptor and needs no closing; the next parse to the same path replaces it.
 */
public final class SpilledTables {
    private SpilledTables() {}

    /** The file a manifest's tables are written to as it is parsed (created or replaced); closed after the parse. */
    static final class Writer implements AutoCloseable {
        private final FileChannel ch;
        private final Path file;
        private long end;

        Writer(Path file) throws IOException {
            this.file = file;
            this.ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        }

        /** A new table in this file, its blocks read back through {@code decode}. */
        <T> Builder<T> table(Function<byte[], T> decode) {
            return new Builder<>(this, decode);
        }

        private long append(byte[] block) {
            long at = end;
            try {
                ByteBuffer bb = ByteBuffer.wrap(block);
                while (bb.hasRemaining()) end += ch.write(bb, end);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the manifest's tables to " + file + ": " + e.getMessage(), e);
            }
            return at;
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    /** One table's blocks as they are written, in order; {@link #build} once they all are. */
    static final class Builder<T> {
        private final Writer w;
        private final Function<byte[], T> decode;
        private final List<long[]> places = new ArrayList<>();
        private final List<byte[]> hashes = new ArrayList<>();

        private Builder(Writer w, Function<byte[], T> decode) {
            this.w = w;
            this.decode = decode;
        }

        void add(byte[] encoded) {
            hashes.add(Sha256.newDigest().digest(encoded));
            places.add(new long[] {w.append(encoded), encoded.length});
        }

        int blocks() {
            return hashes.size();
        }

        Table<T> build() {
            return new Table<>(w.file, places.toArray(long[][]::new), hashes.toArray(byte[][]::new), decode);
        }
    }

    /** A table's blocks in the file, each checked on its way back; decoded blocks cached two at a time. */
    static final class Table<T> {
        private final Path file;
        /** Per block: where it starts in the file and its length. */
        private final long[][] places;
        private final byte[][] hashes;
        private final Function<byte[], T> decode;
        private int c0 = -1;
        private int c1 = -1;
        private T b0;
        private T b1;

        private Table(Path file, long[][] places, byte[][] hashes, Function<byte[], T> decode) {
            this.file = file;
            this.places = places;
            this.hashes = hashes;
            this.decode = decode;
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
            long start = places[b][0];
            byte[] block = new byte[(int) places[b][1]];
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer bb = ByteBuffer.wrap(block);
                while (bb.hasRemaining()) {
                    if (ch.read(bb, start + bb.position()) < 0) break;
                }
                if (bb.hasRemaining() || !MessageDigest.isEqual(Sha256.newDigest().digest(block), hashes[b])) {
                    throw new IOException("manifest table file " + file + " changed on disk (block " + b + " at byte " + start
                            + " does not read back as written); order the install again: its header is verified again");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return block;
        }
    }
}
