package rsuota.bundle;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;
import rsuota.json.RecordJson;

/**
 * An immutable list of SHA-256 digests held as 32 raw bytes each, read back as the 64 lower-case
 * hex digits the manifest spells them in. A format 2 manifest names every chunk twice (identity and
 * stored hash): 12,000 chunks of a 1 GiB image as {@code String}s take about 2 MiB of an install's
 * heap, as raw digests 0.75 MiB (docs/benchmarks.md, "Install peak RSS").
 *
 * <p>The digests sit in blocks of {@link #BLOCK} (32 KiB), so that a {@link Sink} packs a list as the
 * manifest is parsed, without a growing array copied at every doubling or a list of strings first.
 * A list with an entry that is not a canonical digest (64 lower-case hex digits) is kept as given,
 * so that validation ({@link ManifestCodec}) names the bad entry.
 */
final class DigestList extends AbstractList<String> implements RandomAccess {
    static final int BYTES = 32;
    /** Digests a block: 1,024 (32 KiB). */
    static final int BLOCK = 1024;

    /** In memory; null when spilled. */
    private final byte[][] blocks;
    /** In a file ({@link SpilledTables}); null when in memory. */
    private final SpilledTables.Table<byte[]> spilled;
    private final int size;

    private DigestList(byte[][] blocks, int size) {
        this.blocks = blocks;
        this.spilled = null;
        this.size = size;
    }

    private DigestList(SpilledTables.Table<byte[]> spilled, int size) {
        this.blocks = null;
        this.spilled = spilled;
        this.size = size;
    }

    /** This list with its blocks written to {@code ch} (the file {@code file}) and read back from there on demand. */
    DigestList spill(java.nio.channels.FileChannel ch, java.nio.file.Path file) throws java.io.IOException {
        if (spilled != null) return this;
        return new DigestList(SpilledTables.Table.write(ch, file, List.of(blocks), b -> b), size);
    }

    private byte[] block(int b) {
        return blocks != null ? blocks[b] : spilled.block(b);
    }

    /** The list packed, or {@link List#copyOf} of it if an entry is not a canonical digest (null entries throw as there). */
    static List<String> copyOf(List<String> hex) {
        if (hex instanceof DigestList) return hex;
        Sink s = new Sink();
        for (String h : hex) s.add(h);
        return s.packed() ? s.build() : List.copyOf(hex);
    }

    /**
     * Packs digests as they are added ({@link RecordJson.Collect} on {@link ManifestImage#chunks()}).
     * From the first entry that is not canonical on, it keeps every entry as given: {@link #build}
     * then returns them in a plain list, which {@link #copyOf} in the record's constructor keeps as
     * {@link List#copyOf} did before (a null entry is refused there).
     */
    static final class Sink implements RecordJson.ListSink<String> {
        private final List<byte[]> blocks = new ArrayList<>();
        private int size;
        private List<String> given;

        @Override
        public void add(String hex) {
            if (given != null) {
                given.add(hex);
                return;
            }
            if (size % BLOCK == 0) blocks.add(new byte[BLOCK * BYTES]);
            if (pack(hex, blocks.get(blocks.size() - 1), size % BLOCK * BYTES)) {
                size++;
                return;
            }
            given = new ArrayList<>(size + 1);
            given.addAll(new DigestList(blocks.toArray(byte[][]::new), size));
            given.add(hex);
            blocks.clear();
        }

        boolean packed() {
            return given == null;
        }

        @Override
        public List<String> build() {
            if (given != null) return given;
            byte[][] b = blocks.toArray(byte[][]::new);
            // the last block shrinks to what it holds
            if (b.length > 0) b[b.length - 1] = Arrays.copyOf(b[b.length - 1], (size - (b.length - 1) * BLOCK) * BYTES);
            return new DigestList(b, size);
        }
    }

    /** Writes the 32 bytes {@code hex} spells at {@code at}; false if it is not 64 lower-case hex digits. */
    static boolean pack(String hex, byte[] into, int at) {
        if (hex == null || hex.length() != 2 * BYTES) return false;
        for (int k = 0; k < BYTES; k++) {
            int hi = nibble(hex.charAt(2 * k));
            int lo = nibble(hex.charAt(2 * k + 1));
            if (hi < 0 || lo < 0) return false;
            into[at + k] = (byte) (hi << 4 | lo);
        }
        return true;
    }

    private static int nibble(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    }

    static String hex(byte[] from, int at) {
        // HexFormat makes the string from its own Latin-1 bytes: not through String(byte[], Charset),
        // whose 840 bytes of code C2 would compile again for this caller (docs/benchmarks.md)
        return HEX.formatHex(from, at, at + BYTES);
    }

    private static final java.util.HexFormat HEX = java.util.HexFormat.of();

    @Override
    public String get(int index) {
        java.util.Objects.checkIndex(index, size);
        return hex(block(index / BLOCK), index % BLOCK * BYTES);
    }

    @Override
    public int size() {
        return size;
    }
}
