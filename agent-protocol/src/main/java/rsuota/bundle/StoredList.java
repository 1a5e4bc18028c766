package rsuota.bundle;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * The immutable per-chunk table of a format 2 image ({@link ManifestImage.Cdc#stored()}) held in
 * three arrays (lengths, stored lengths, raw stored digests: 40 bytes a chunk) instead of one record
 * and one hex string a chunk (about 130 bytes). {@link #get} builds the record on demand. As in
 * {@link DigestList}, a table with a non-canonical digest is kept as given for validation to name.
 */
final class StoredList extends AbstractList<ManifestImage.Stored> implements RandomAccess {
    private final int[] lengths;
    private final int[] storedLengths;
    private final byte[] digests;

    private StoredList(int[] lengths, int[] storedLengths, byte[] digests) {
        this.lengths = lengths;
        this.storedLengths = storedLengths;
        this.digests = digests;
    }

    static List<ManifestImage.Stored> copyOf(List<ManifestImage.Stored> stored) {
        if (stored instanceof StoredList) return stored;
        int n = stored.size();
        int[] lengths = new int[n];
        int[] storedLengths = new int[n];
        byte[] digests = new byte[n * DigestList.BYTES];
        int i = 0;
        for (ManifestImage.Stored s : stored) {
            if (s == null || !DigestList.pack(s.storedSha256(), digests, i * DigestList.BYTES)) return List.copyOf(stored);
            lengths[i] = s.length();
            storedLengths[i] = s.storedLength();
            i++;
        }
        return new StoredList(lengths, storedLengths, digests);
    }

    @Override
    public ManifestImage.Stored get(int index) {
        java.util.Objects.checkIndex(index, size());
        return new ManifestImage.Stored(lengths[index], storedLengths[index], DigestList.hex(digests, index * DigestList.BYTES));
    }

    @Override
    public int size() {
        return lengths.length;
    }
}
