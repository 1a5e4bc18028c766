package rsuota.bundle;

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
            int len = image.compressed() ? image.cdc().stored().get(i).length() : (int) Math.min(image.chunkSize(), image.size() - offsets[i]);
            offsets[i + 1] = offsets[i] + len;
            storedOffsets[i + 1] = storedOffsets[i] + (image.compressed() ? image.cdc().stored().get(i).storedLength() : len);
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
