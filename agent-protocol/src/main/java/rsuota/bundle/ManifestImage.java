package rsuota.bundle;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import rsuota.json.RecordJson;

/**
 * One payload image.
 *
 * @param slotClass which slot class it is written to ("rootfs", "app", ...)
 * @param offset    first payload byte of the image, relative to the start of the payload
 * @param size      image length in bytes (uncompressed)
 * @param sha256    lower-case hex SHA-256 of the whole image
 * @param chunkSize format 1: bytes per chunk, the last one may be shorter; format 2: the largest a
 *                  chunk may be (the content-defined maximum), which bounds every buffer
 * @param chunks    lower-case hex SHA-256 of every chunk's uncompressed bytes (its identity), in order;
 *                  format 1: exactly ceil(size / chunkSize) entries
 * @param cdc       format 2 only (absent in format 1): how the chunks were cut and how each is stored
 */
public record ManifestImage(String slotClass, long offset, long size, String sha256, int chunkSize,
                            @RecordJson.Collect(DigestList.Sink.class) List<String> chunks,
                            @JsonInclude(JsonInclude.Include.NON_NULL) Cdc cdc) {
    public ManifestImage {
        // held packed (32 raw bytes a digest): a 1 GiB image names 12,000 chunks (DigestList); packed
        // while the manifest is parsed (RecordJson.Collect), else here
        chunks = chunks == null ? null : DigestList.copyOf(chunks);
    }

    /** A format 1 image: fixed-size, uncompressed chunks. */
    public ManifestImage(String slotClass, long offset, long size, String sha256, int chunkSize, List<String> chunks) {
        this(slotClass, offset, size, sha256, chunkSize, chunks, null);
    }

    /**
     * Format 2: content-defined chunks, each stored zstd-compressed.
     *
     * @param min         the chunker's minimum (every chunk but the last is at least this long)
     * @param avg         the chunker's average; with {@code min} and {@code chunkSize} it lets a unit cut
     *                    its active slot the same way ({@link Chunking})
     * @param compression "zstd"
     * @param prefix      each chunk is compressed with up to this many image bytes before it as a raw zstd
     *                    dictionary (0: none). A unit writes chunks in order, so it always holds them, fetched or
     *                    reused; it buys back most of what compressing 64 KiB chunks alone loses to whole-image zstd
     * @param stored      per chunk, in order: uncompressed length, stored (compressed) length, SHA-256 of the stored bytes
     */
    public record Cdc(int min, int avg, String compression, int prefix, @RecordJson.Collect(StoredList.Sink.class) List<Stored> stored) {
        public Cdc {
            stored = stored == null ? null : StoredList.copyOf(stored);
        }
    }

    /** One stored chunk, written as a JSON array {@code [length, storedLength, "storedSha256"]} to keep manifests small. */
    @JsonFormat(shape = JsonFormat.Shape.ARRAY)
    @JsonPropertyOrder({"length", "storedLength", "storedSha256"})
    public record Stored(int length, int storedLength, String storedSha256) {}

    public boolean compressed() {
        return cdc != null;
    }

    public Chunking chunking() {
        return cdc == null ? null : new Chunking(cdc.min(), cdc.avg(), chunkSize);
    }

    public int chunkCount() {
        return chunks.size();
    }

    /** Offset of chunk {@code index} within the (uncompressed) image. Format 2 sums lengths: use {@link ChunkLayout} in loops. */
    public long chunkOffset(int index) {
        if (cdc == null) return (long) index * chunkSize;
        long o = 0;
        for (int i = 0; i < index; i++) o += cdc.stored().get(i).length();
        return o;
    }

    /** Uncompressed length of chunk {@code index} (the last one may be short). */
    public int chunkLength(int index) {
        if (cdc != null) return cdc.stored().get(index).length();
        return (int) Math.min(chunkSize, size - chunkOffset(index));
    }

    /** Bytes the image occupies in the payload: its size, or the sum of its stored chunks. */
    public long storedSize() {
        if (cdc == null) return size;
        long s = 0;
        for (Stored st : cdc.stored()) s += st.storedLength();
        return s;
    }

    /** Number of chunks an image of {@code size} bytes has at {@code chunkSize} (format 1). */
    public static long expectedChunks(long size, int chunkSize) {
        return (size + chunkSize - 1) / chunkSize;
    }
}
