package rsuota.bundle;

import java.nio.charset.StandardCharsets;

/**
 * Constants of the {@code .rsub} container (docs/bundle-format.md is the byte-level description).
 *
 * <pre>
 * "RSUB" | u16 format (1 or 2) | u32 manifestLen | manifest | u32 sigLen | CMS SignedData (DER) | payload
 * </pre>
 * All integers are big-endian (network order, as {@link java.io.DataInputStream} reads them).
 * Image offsets in the manifest are relative to the first payload byte, so attaching a signature
 * of another length never changes the signed manifest.
 */
public final class BundleFormat {
    private BundleFormat() {}

    public static final byte[] MAGIC = "RSUB".getBytes(StandardCharsets.US_ASCII);
    /** Format 1: fixed-size, uncompressed chunks. */
    public static final int FORMAT_VERSION = 1;
    /** Format 2: content-defined chunks, each zstd-compressed (docs/bundle-format.md). What {@code rsu-bundle create} makes. */
    public static final int FORMAT_V2 = 2;
    /** magic + format + manifestLen: the bytes a reader needs before it knows anything else. */
    public static final int PREAMBLE_BYTES = 4 + 2 + 4;

    /**
     * Cap on the manifest. 8 MiB holds the chunk list of a 7 GiB format 1 image at the smallest chunk
     * size (64 KiB chunks, ~67 bytes per hash entry), of a ~3.5 GiB format 2 image at the default 64 KiB
     * average (~150 bytes a chunk; larger images take larger chunks, which {@link BundleWriter} says),
     * while keeping a hostile length from allocating more.
     */
    public static final int MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
    /** Cap on the CMS blob: a signer chain of a few certificates is 2-8 KiB; 64 KiB leaves room for RSA-4096 chains. */
    public static final int MAX_SIGNATURE_BYTES = 64 * 1024;
    /** How many bytes a device fetches first: enough for the preamble of any bundle. */
    public static final int MAX_HEADER_BYTES = PREAMBLE_BYTES + MAX_MANIFEST_BYTES + 4 + MAX_SIGNATURE_BYTES;

    public static final int MAX_IMAGES = 16;
    public static final long MAX_IMAGE_SIZE = 64L * 1024 * 1024 * 1024;
    public static final int MIN_CHUNK_SIZE = 64 * 1024;
    public static final int MAX_CHUNK_SIZE = 64 * 1024 * 1024;
    public static final int DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;
}
