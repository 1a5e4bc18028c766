package rsuota.bundle;

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
 * table while the manifest is parsed, and a table with a non-canonical digest is kept as given for
 * validation to name.
 */
final class StoredList extends AbstractList<ManifestImage.Stored> implements RandomAccess {
    private static final int BLOCK = DigestList.BLOCK;

    private final int[][] lengths;
    private final int[][] storedLengths;
    private final byte[][] digests;
    private final int size;

    private StoredList(int[][] lengths, int[][] storedLengths, byte[][] digests, int size) {
        this.lengths = lengths;
        this.storedLengths = storedLengths;
        this.digests = digests;
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
        private final List<int[]> lengths = new ArrayList<>();
        private final List<int[]> storedLengths = new ArrayList<>();
        private final List<byte[]> digests = new ArrayList<>();
        private int size;
        private List<ManifestImage.Stored> given;

        @Override
        public void add(ManifestImage.Stored st) {
            if (given != null) {
                given.add(st);
                return;
            }
            int at = size % BLOCK;
            if (at == 0) {
                lengths.add(new int[BLOCK]);
                storedLengths.add(new int[BLOCK]);
                digests.add(new byte[BLOCK * DigestList.BYTES]);
            }
            int last = digests.size() - 1;
            if (st != null && DigestList.pack(st.storedSha256(), digests.get(last), at * DigestList.BYTES)) {
                lengths.get(last)[at] = st.length();
                storedLengths.get(last)[at] = st.storedLength();
                size++;
                return;
            }
            given = new ArrayList<>(size + 1);
            given.addAll(table());
            given.add(st);
        }

        boolean packed() {
            return given == null;
        }

        private StoredList table() {
            return new StoredList(lengths.toArray(int[][]::new), storedLengths.toArray(int[][]::new), digests.toArray(byte[][]::new), size);
        }

        @Override
        public List<ManifestImage.Stored> build() {
            if (given != null) return given;
            int n = digests.size();
            if (n > 0) {
                // the last block shrinks to what it holds
                int held = size - (n - 1) * BLOCK;
                lengths.set(n - 1, Arrays.copyOf(lengths.get(n - 1), held));
                storedLengths.set(n - 1, Arrays.copyOf(storedLengths.get(n - 1), held));
                digests.set(n - 1, Arrays.copyOf(digests.get(n - 1), held * DigestList.BYTES));
            }
            return table();
        }
    }

    @Override
    public ManifestImage.Stored get(int index) {
        java.util.Objects.checkIndex(index, size);
        int b = index / BLOCK;
        int at = index % BLOCK;
        return new ManifestImage.Stored(lengths[b][at], storedLengths[b][at], DigestList.hex(digests[b], at * DigestList.BYTES));
    }

    @Override
    public int size() {
        return size;
    }
}
