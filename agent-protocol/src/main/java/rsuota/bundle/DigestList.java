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
     * Packs digests as they are added ({@link RecordJson.Collect} on {@link ManifestImage#chunks()}), each full
     * block kept in memory or, given a {@link SpilledTables.Writer}, written to its file at once: the sink
     * then holds one block. From the first entry that is not canonical on, it keeps every entry as given:
     * {@link #build} then returns them in a plain list, which {@link #copyOf} in the record's constructor
     * keeps as {@link List#copyOf} did before (a null entry is refused there).
     */
    static final class Sink implements RecordJson.ListSink<String> {
        /** Null: full blocks stay in {@link #blocks}. */
        private final SpilledTables.Builder<byte[]> spill;
        private final List<byte[]> blocks = new ArrayList<>();
        private byte[] current;
        private int size;
        private List<String> given;

        Sink() {
            this(null);
        }

        Sink(SpilledTables.Writer to) {
            this.spill = to == null ? null : to.table(b -> b);
        }

        @Override
        public void add(String hex) {
            if (given != null) {
                given.add(hex);
                return;
            }
            if (size % BLOCK == 0) {
                if (current != null) keep(current);
                current = new byte[BLOCK * BYTES];
            }
            if (pack(hex, current, size % BLOCK * BYTES)) {
                size++;
                return;
            }
            given = new ArrayList<>(size + 1);
            given.addAll(list());
            given.add(hex);
        }

        private void keep(byte[] block) {
            if (spill != null) spill.add(block);
            else blocks.add(block);
        }

        /** The entries so far, packed; the last block shrinks to what it holds. */
        private DigestList list() {
            int held = size - (spill != null ? spill.blocks() : blocks.size()) * BLOCK;
            if (held > 0) keep(held == BLOCK ? current : Arrays.copyOf(current, held * BYTES));
            current = null;
            return spill != null ? new DigestList(spill.build(), size) : new DigestList(blocks.toArray(byte[][]::new), size);
        }

        boolean packed() {
            return given == null;
        }

        @Override
        public List<String> build() {
            return given != null ? given : list();
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
