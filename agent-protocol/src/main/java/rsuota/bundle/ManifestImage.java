package rsuota.bundle;

import java.util.List;

/**
 * One payload image.
 *
 * @param slotClass which slot class it is written to ("rootfs", "app", ...)
 * @param offset    first byte of the image, relative to the start of the payload
 * @param size      image length in bytes
 * @param sha256    lower-case hex SHA-256 of the whole image
 * @param chunkSize bytes per chunk; the last chunk may be shorter
 * @param chunks    lower-case hex SHA-256 of every chunk, in order; exactly ceil(size / chunkSize) entries
 */
public record ManifestImage(String slotClass, long offset, long size, String sha256, int chunkSize, List<String> chunks) {
    public ManifestImage {
        chunks = chunks == null ? null : List.copyOf(chunks);
    }

    public int chunkCount() {
        return chunks.size();
    }

    /** Offset of chunk {@code index} within the image. */
    public long chunkOffset(int index) {
        return (long) index * chunkSize;
    }

    /** Length of chunk {@code index} (the last one may be short). */
    public int chunkLength(int index) {
        return (int) Math.min(chunkSize, size - chunkOffset(index));
    }

    /** Number of chunks an image of {@code size} bytes has at {@code chunkSize}. */
    public static long expectedChunks(long size, int chunkSize) {
        return (size + chunkSize - 1) / chunkSize;
    }
}
