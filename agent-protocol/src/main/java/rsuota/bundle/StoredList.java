package rsuota.bundle;

import java.nio.ByteBuffer;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;
import rsuota.json.RecordJson;

/**
 * The immutable per-chunk table of a format 2 image ({@link ManifestImage.Cdc#stored()}) held in
 * blocks of {@link DigestList#BLOCK} entries, three arrays a block (lengths, stored lengths, raw
 * stored digests: 40 bytes a chunk) instead of one record and one hex string a chunk (about 130
 * bytes). {@link #get} builds the record on demand. As in {@link DigestList}, a {@link Sink} packs the
 * table while the manifest is parsed, a table with a non-canonical digest is kept as given for
 * validation to name, and a verified table can be spilled to a file ({@link SpilledTables}).
 */
final class StoredList extends AbstractList<ManifestImage.Stored> implements RandomAccess {
    private static final int BLOCK = DigestList.BLOCK;

    /** One block's entries. */
    record Block(int[] lengths, int[] storedLengths, byte[] digests) {
        byte[] encode() {
            ByteBuffer b = ByteBuffer.allocate(lengths.length * (8 + DigestList.BYTES));
            for (int v : lengths) b.putInt(v);
            for (int v : storedLengths) b.putInt(v);
            return b.put(digests).array();
        }

        static Block decode(byte[] bytes) {
            int n = bytes.length / (8 + DigestList.BYTES);
            ByteBuffer b = ByteBuffer.wrap(bytes);
            int[] lengths = new int[n];
            int[] stored = new int[n];
            for (int i = 0; i < n; i++) lengths[i] = b.getInt();
            for (int i = 0; i < n; i++) stored[i] = b.getInt();
            return new Block(lengths, stored, Arrays.copyOfRange(bytes, 8 * n, bytes.length));
        }
    }

    /** In memory; null when spilled. */
    private final Block[] blocks;
    /** In a file; null when in memory. */
    private final SpilledTables.Table<Block> spilled;
    private final int size;

    private StoredList(Block[] blocks, SpilledTables.Table<Block> spilled, int size) {
        this.blocks = blocks;
        this.spilled = spilled;
        this.size = size;
    }

    static List<ManifestImage.Stored> copyOf(List<ManifestImage.Stored> stored) {
        if (stored instanceof StoredList) return stored;
        Sink s = new Sink();
        for (ManifestImage.Stored st : stored) s.add(st);
        return s.packed() ? s.build() : List.copyOf(stored);
    }

    /** Packs entries as they are added ({@link RecordJson.Collect} on {@link ManifestImage.Cdc#stored()}); as {@link DigestList.Sink}. */
    static final class Sink implements RecordJson.ListSink<ManifestImage.Stored> {
        /** Null: full blocks stay in {@link #blocks}. */
        private final SpilledTables.Builder<Block> spill;
        private final List<Block> blocks = new ArrayList<>();
        private Block current;
        private int size;
        private List<ManifestImage.Stored> given;

        Sink() {
            this(null);
        }

        Sink(SpilledTables.Writer to) {
            this.spill = to == null ? null : to.table(Block::decode);
        }

        @Override
        public void add(ManifestImage.Stored st) {
            if (given != null) {
                given.add(st);
                return;
            }
            int at = size % BLOCK;
            if (at == 0) {
                if (current != null) keep(current);
                current = new Block(new int[BLOCK], new int[BLOCK], new byte[BLOCK * DigestList.BYTES]);
            }
            if (st != null && DigestList.pack(st.storedSha256(), current.digests(), at * DigestList.BYTES)) {
                current.lengths()[at] = st.length();
                current.storedLengths()[at] = st.storedLength();
                size++;
                return;
            }
            given = new ArrayList<>(size + 1);
            given.addAll(list());
            given.add(st);
        }

        private void keep(Block b) {
            if (spill != null) spill.add(b.encode());
            else blocks.add(b);
        }

        /** The entries so far, packed; the last block shrinks to what it holds. */
        private StoredList list() {
            int held = size - (spill != null ? spill.blocks() : blocks.size()) * BLOCK;
            if (held > 0) {
                keep(new Block(Arrays.copyOf(current.lengths(), held), Arrays.copyOf(current.storedLengths(), held),
                        Arrays.copyOf(current.digests(), held * DigestList.BYTES)));
            }
            current = null;
            return spill != null ? new StoredList(null, spill.build(), size) : new StoredList(blocks.toArray(Block[]::new), null, size);
        }

        boolean packed() {
            return given == null;
        }

        @Override
        public List<ManifestImage.Stored> build() {
            return given != null ? given : list();
        }
    }

    /** Block {@code b}: entries {@code b * BLOCK} on. */
    Block block(int b) {
        return blocks != null ? blocks[b] : spilled.block(b);
    }

    int blockCount() {
        return (size + BLOCK - 1) / BLOCK;
    }

    @Override
    public ManifestImage.Stored get(int index) {
        java.util.Objects.checkIndex(index, size);
        Block b = block(index / BLOCK);
        int at = index % BLOCK;
        return new ManifestImage.Stored(b.lengths()[at], b.storedLengths()[at], DigestList.hex(b.digests(), at * DigestList.BYTES));
    }

    @Override
    public int size() {
        return size;
    }
}
