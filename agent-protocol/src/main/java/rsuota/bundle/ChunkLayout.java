package rsuota.bundle;

import java.util.List;

/**
 * Where each chunk of an image lies, precomputed once: in the image (uncompressed) and in the
 * payload (stored: compressed in format 2, the same bytes in format 1). What a reader of either
 * format iterates over, so that no loop sums lengths again.
 */
public final class ChunkLayout {
    private final ManifestImage image;
    private final long[] offsets;
    private final long[] storedOffsets;

    private ChunkLayout(ManifestImage image) {
        this.image = image;
        int n = image.chunkCount();
        offsets = new long[n + 1];
        storedOffsets = new long[n + 1];
        storedOffsets[0] = image.offset();
        for (int i = 0; i < n; i++) {
            ManifestImage.Stored st = image.compressed() ? image.cdc().stored().get(i) : null;
            int len = st != null ? st.length() : (int) Math.min(image.chunkSize(), image.size() - offsets[i]);
            offsets[i + 1] = offsets[i] + len;
            storedOffsets[i + 1] = storedOffsets[i] + (st != null ? st.storedLength() : len);
        }
    }

    public static ChunkLayout of(ManifestImage image) {
        return new ChunkLayout(image);
    }

    public ManifestImage image() {
        return image;
    }

    public int count() {
        return offsets.length - 1;
    }

    public boolean compressed() {
        return image.compressed();
    }

    /** Offset of chunk {@code i} in the image. */
    public long offset(int i) {
        return offsets[i];
    }

    /** Uncompressed length. */
    public int length(int i) {
        return (int) (offsets[i + 1] - offsets[i]);
    }

    /** Payload-relative offset of the stored bytes. */
    public long storedOffset(int i) {
        return storedOffsets[i];
    }

    public int storedLength(int i) {
        return (int) (storedOffsets[i + 1] - storedOffsets[i]);
    }

    /** SHA-256 of the uncompressed bytes. */
    public String identity(int i) {
        return image.chunks().get(i);
    }

    /** SHA-256 of the stored bytes (the identity in format 1). */
    public String storedSha256(int i) {
        return image.compressed() ? image.cdc().stored().get(i).storedSha256() : image.chunks().get(i);
    }

    /**
     * For each chunk, the first chunk of the image with the same identity (itself if none comes
     * before it): a chunk that occurs twice is copied from its first occurrence. An open-addressed
     * table of chunk numbers, about 12 bytes a chunk, instead of a map of identity strings.
     */
    public int[] firstOccurrences() {
        List<String> ids = image.chunks();
        int n = count();
        int[] first = new int[n];
        int[] table = new int[Math.max(4, Integer.highestOneBit(Math.max(1, n)) * 4)]; // chunk + 1, 0 = free; load <= 1/2
        int mask = table.length - 1;
        for (int c = 0; c < n; c++) {
            String id = ids.get(c);
            int slot = mix(id.hashCode()) & mask;
            first[c] = c;
            while (table[slot] != 0) {
                int j = table[slot] - 1;
                if (ids.get(j).equals(id)) {
                    first[c] = j;
                    break;
                }
                slot = (slot + 1) & mask;
            }
            if (first[c] == c) table[slot] = c + 1;
        }
        return first;
    }

    private static int mix(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** Largest stored chunk: the buffer a fetch needs. */
    public int maxStoredLength() {
        int m = 0;
        for (int i = 0; i < count(); i++) m = Math.max(m, storedLength(i));
        return m;
    }

    /** Largest uncompressed chunk. */
    public int maxLength() {
        int m = 0;
        for (int i = 0; i < count(); i++) m = Math.max(m, length(i));
        return m;
    }
}
