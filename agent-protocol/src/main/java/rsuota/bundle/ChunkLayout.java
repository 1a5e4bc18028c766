package rsuota.bundle;

import java.util.List;

/**
 * Where each chunk of an image lies: in the image (uncompressed) and in the payload (stored:
 * compressed in format 2, the same bytes in format 1). What a reader of either format iterates over,
 * so that no loop sums lengths again. Format 1 computes offsets from the chunk size. Format 2 keeps
 * where each block of {@link DigestList#BLOCK} chunks starts, and the offsets inside the two blocks
 * used last: memory per block, not per chunk, so that a table spilled to a file
 * ({@link SpilledTables}) stays there.
 */
public final class ChunkLayout {
    private static final int BLOCK = DigestList.BLOCK;

    private final ManifestImage image;
    private final int count;
    /** Format 2: the stored table, and where each of its blocks starts (image, payload), plus the end. */
    private final StoredList table;
    private final long[] blockOffsets;
    private final long[] blockStoredOffsets;
    /** Format 2 with a table that is not packed (only before validation refused it): per chunk, plus the end. */
    private final long[] offsets;
    private final long[] storedOffsets;
    /** In-block offsets of the blocks used last (the fill and its fetch thread walk two places at once). */
    private Prefix p0;
    private Prefix p1;

    private record Prefix(int block, long[] offsets, long[] storedOffsets) {}

    private ChunkLayout(ManifestImage image) {
        this.image = image;
        this.count = image.chunkCount();
        if (image.compressed() && image.cdc().stored() instanceof StoredList t) {
            table = t;
            int blocks = t.blockCount();
            blockOffsets = new long[blocks + 1];
            blockStoredOffsets = new long[blocks + 1];
            blockStoredOffsets[0] = image.offset();
            for (int b = 0; b < blocks; b++) {
                StoredList.Block k = t.block(b);
                long sum = 0;
                long storedSum = 0;
                for (int i = 0; i < k.lengths().length; i++) {
                    sum += k.lengths()[i];
                    storedSum += k.storedLengths()[i];
                }
                blockOffsets[b + 1] = blockOffsets[b] + sum;
                blockStoredOffsets[b + 1] = blockStoredOffsets[b] + storedSum;
            }
            offsets = null;
            storedOffsets = null;
        } else if (image.compressed()) {
            table = null;
            blockOffsets = null;
            blockStoredOffsets = null;
            offsets = new long[count + 1];
            storedOffsets = new long[count + 1];
            storedOffsets[0] = image.offset();
            for (int i = 0; i < count; i++) {
                ManifestImage.Stored st = image.cdc().stored().get(i);
                offsets[i + 1] = offsets[i] + st.length();
                storedOffsets[i + 1] = storedOffsets[i] + st.storedLength();
            }
        } else {
            table = null;
            blockOffsets = null;
            blockStoredOffsets = null;
            offsets = null;
            storedOffsets = null;
        }
    }

    public static ChunkLayout of(ManifestImage image) {
        return new ChunkLayout(image);
    }

    public ManifestImage image() {
        return image;
    }

    public int count() {
        return count;
    }

    public boolean compressed() {
        return image.compressed();
    }

    /** Offset of chunk {@code i} in the image ({@code count()}: the image's end). */
    public long offset(int i) {
        if (table != null) return i == count ? blockOffsets[blockOffsets.length - 1] : prefix(i / BLOCK).offsets()[i % BLOCK];
        if (offsets != null) return offsets[i];
        return Math.min((long) i * image.chunkSize(), image.size());
    }

    /** Uncompressed length. */
    public int length(int i) {
        if (table != null) return table.block(i / BLOCK).lengths()[i % BLOCK];
        return (int) (offset(i + 1) - offset(i));
    }

    /** Payload-relative offset of the stored bytes ({@code count()}: the image's end in the payload). */
    public long storedOffset(int i) {
        if (table != null) {
            return i == count ? blockStoredOffsets[blockStoredOffsets.length - 1] : prefix(i / BLOCK).storedOffsets()[i % BLOCK];
        }
        if (storedOffsets != null) return storedOffsets[i];
        return image.offset() + offset(i);
    }

    public int storedLength(int i) {
        if (table != null) return table.block(i / BLOCK).storedLengths()[i % BLOCK];
        return (int) (storedOffset(i + 1) - storedOffset(i));
    }

    private synchronized Prefix prefix(int b) {
        if (p0 != null && p0.block() == b) return p0;
        if (p1 != null && p1.block() == b) {
            Prefix p = p1;
            p1 = p0;
            p0 = p;
            return p;
        }
        StoredList.Block k = table.block(b);
        int n = k.lengths().length;
        long[] off = new long[n];
        long[] st = new long[n];
        long o = blockOffsets[b];
        long so = blockStoredOffsets[b];
        for (int i = 0; i < n; i++) {
            off[i] = o;
            st[i] = so;
            o += k.lengths()[i];
            so += k.storedLengths()[i];
        }
        p1 = p0;
        p0 = new Prefix(b, off, st);
        return p0;
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
     * table of chunk numbers and their identities' hashes, about 20 bytes a chunk, instead of a map of
     * identity strings; an identity is read again only when its hash matches (a spilled table reads
     * its blocks in order, not one per probe).
     */
    public int[] firstOccurrences() {
        List<String> ids = image.chunks();
        int n = count();
        int[] first = new int[n];
        int[] table = new int[Math.max(4, Integer.highestOneBit(Math.max(1, n)) * 4)]; // chunk + 1, 0 = free; load <= 1/2
        int[] hashes = new int[table.length];
        int mask = table.length - 1;
        for (int c = 0; c < n; c++) {
            String id = ids.get(c);
            int h = id.hashCode();
            int slot = mix(h) & mask;
            first[c] = c;
            while (table[slot] != 0) {
                int j = table[slot] - 1;
                if (hashes[slot] == h && ids.get(j).equals(id)) {
                    first[c] = j;
                    break;
                }
                slot = (slot + 1) & mask;
            }
            if (first[c] == c) {
                table[slot] = c + 1;
                hashes[slot] = h;
            }
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
