package rsuota.bundle;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdDictContentType;
import com.github.luben.zstd.ZstdException;

/**
 * zstd for format 2 chunks, one frame per chunk, buffer to buffer: nothing is allocated per chunk
 * and nothing inflates past the buffer the manifest's declared length sizes.
 */
public final class ChunkCodec implements AutoCloseable {
    /** Level 19 ("ultra" starts at 20): chunks are compressed once, at release time, and fetched by every unit. */
    public static final int DEFAULT_LEVEL = 19;
    /**
     * Image bytes before each chunk used as its dictionary. On a 64 MiB ext4 image of libraries (docs/benchmarks.md):
     * none 18.18 MB, 64 KiB 17.12 MB, 256 KiB 16.23 MB (whole-image zstd -3: 16.17 MB), 1 MiB 14.93 MB at 4.5x the
     * compression time.
     */
    public static final int DEFAULT_PREFIX = 256 * 1024;

    private ZstdCompressCtx compress;
    private ZstdDecompressCtx decompress;

    /** zstd's ZSTD_COMPRESSBOUND, in Java so that validating a manifest loads no native code. */
    public static int compressBound(int length) {
        int small = 128 * 1024;
        return length + (length >>> 8) + (length < small ? (small - length) >>> 11 : 0);
    }

    /** Compresses {@code src[off, off+len)} into {@code dst} (at least {@link #compressBound} long); returns the stored length. */
    public int compress(byte[] src, int off, int len, byte[] dst, int level) {
        return compress(src, off, len, dst, level, null);
    }

    /**
     * Compresses with {@code prefix} (the image bytes just before the chunk; null or empty: none) as
     * a raw-content dictionary: the chunk may refer back into them as if it were not cut.
     */
    public int compress(byte[] src, int off, int len, byte[] dst, int level, byte[] prefix) {
        if (compress == null) compress = new ZstdCompressCtx().setChecksum(false).setContentSize(true);
        compress.setLevel(level);
        if (prefix != null && prefix.length > 0) compress.loadDict(prefix, ZstdDictContentType.RAW_CONTENT);
        else compress.loadDict((byte[]) null);
        return compress.compressByteArray(dst, 0, dst.length, src, off, len);
    }

    /**
     * Inflates one stored chunk into {@code dst[0, length)} and checks it against the signed length
     * and identity. The stored bytes were already checked against their signed hash, so a failure
     * here means the signed bundle itself is wrong: refetching cannot help.
     *
     * @throws BundleException {@link Reason#CHUNK_INFLATE_LIMIT} if it inflates past {@code length} or is not
     *                         zstd; {@link Reason#CHUNK_IDENTITY_MISMATCH} if shorter or its hash differs
     */
    public void decompress(byte[] src, int off, int len, byte[] dst, int length, String identity, String where) throws BundleException {
        decompress(src, off, len, dst, length, identity, where, null);
    }

    /** As {@link #decompress(byte[], int, int, byte[], int, String, String)}, for a chunk compressed with {@code prefix}. */
    public void decompress(byte[] src, int off, int len, byte[] dst, int length, String identity, String where, byte[] prefix)
            throws BundleException {
        if (decompress == null) decompress = new ZstdDecompressCtx();
        int n;
        try {
            if (prefix != null && prefix.length > 0) decompress.loadDict(prefix, ZstdDictContentType.RAW_CONTENT);
            else decompress.loadDict((byte[]) null);
            // One-shot decoding writes only into dst: the window is dst itself, so a frame that
            // claims a huge window or content size costs no allocation, it just fails here.
            n = decompress.decompressByteArray(dst, 0, length, src, off, len);
        } catch (ZstdException e) {
            throw new BundleException(Reason.CHUNK_INFLATE_LIMIT, where + ": stored bytes do not inflate to the signed "
                    + length + " bytes (" + e.getMessage() + "): the bundle is corrupt as signed; rebuild it");
        }
        if (n != length) {
            throw new BundleException(Reason.CHUNK_IDENTITY_MISMATCH, where + ": inflates to " + n + " bytes, the manifest signs "
                    + length + ": the bundle is corrupt as signed; rebuild it");
        }
        String got = Sha256.of(dst, 0, n);
        if (!got.equals(identity)) {
            throw new BundleException(Reason.CHUNK_IDENTITY_MISMATCH, where + ": inflated bytes hash to " + got + ", the manifest signs "
                    + identity + ": the bundle is corrupt as signed; rebuild it");
        }
    }

    @Override
    public void close() {
        if (compress != null) compress.close();
        if (decompress != null) decompress.close();
    }
}
