package rsuota.bundle;

import java.util.Locale;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The parsed front of a bundle: the exact manifest bytes, the signature blob, and where the
 * payload starts. Parsing checks every declared length against its cap before reading it, so a
 * hostile length never allocates more than the cap.
 *
 * @param formatVersion  header format (1)
 * @param manifestBytes  the exact signed bytes
 * @param signature      CMS SignedData DER; empty for an unsigned bundle
 * @param payloadOffset  absolute offset of the first payload byte in the bundle file
 * @param manifest       the decoded and validated manifest (not yet trusted: see {@link BundleVerifier})
 */
public record BundleHeader(int formatVersion, byte[] manifestBytes, byte[] signature, long payloadOffset, Manifest manifest) {

    public boolean signed() {
        return signature.length > 0;
    }

    /** Reads a header from the start of a stream (a file, or an HTTP Range response of the first bytes). */
    public static BundleHeader read(InputStream in) throws BundleException, IOException {
        DataInputStream d = new DataInputStream(in);
        int format = preamble(d);
        int manifestLen = manifestLength(d);
        byte[] manifestBytes = readFully(d, manifestLen, "manifest");
        byte[] sig = signature(d);
        Manifest manifest = decode(format, manifestBytes, 0, manifestLen);
        return new BundleHeader(format, manifestBytes, sig, payloadOffset(manifestLen, sig), manifest);
    }

    /**
     * A header parsed where it lies in {@code head} (a unit's fetched header): the manifest is decoded
     * and later verified from its slice of {@code head}, never copied out. A 1 GiB image's manifest is
     * 1.8 MiB, which an install otherwise held twice (docs/benchmarks.md, "Install peak RSS").
     *
     * @param head           the header's bytes, at least up to the signature's end
     * @param manifestOffset where the manifest's bytes start in {@code head}
     * @param manifestLength how many there are
     */
    public record InPlace(byte[] head, int formatVersion, int manifestOffset, int manifestLength, byte[] signature,
                          long payloadOffset, Manifest manifest) {
        public boolean signed() {
            return signature.length > 0;
        }
    }

    /** Parses a header held in memory in place ({@link InPlace}); the same checks and errors as {@link #read(InputStream)}. */
    public static InPlace readInPlace(byte[] head) throws BundleException {
        DataInputStream d = new DataInputStream(new java.io.ByteArrayInputStream(head));
        try {
            int format = preamble(d);
            int manifestLen = manifestLength(d);
            if (d.skipBytes(manifestLen) < manifestLen) {
                throw new BundleException(Reason.TRUNCATED, "bundle ends inside the manifest (" + manifestLen + " bytes expected)");
            }
            byte[] sig = signature(d);
            Manifest manifest = decode(format, head, BundleFormat.PREAMBLE_BYTES, manifestLen);
            return new InPlace(head, format, BundleFormat.PREAMBLE_BYTES, manifestLen, sig, payloadOffset(manifestLen, sig), manifest);
        } catch (IOException e) {
            throw new IllegalStateException("reading a byte array failed", e); // a ByteArrayInputStream only ends
        }
    }

    /** Magic and format version; returns the format. */
    private static int preamble(DataInputStream d) throws BundleException, IOException {
        byte[] magic = readFully(d, 4, "magic");
        if (!Arrays.equals(magic, BundleFormat.MAGIC)) {
            throw new BundleException(Reason.BAD_MAGIC, "file does not start with RSUB (found bytes "
                    + hex(magic) + "): not an .rsub bundle");
        }
        int format = readU16(d, "format version");
        if (format != BundleFormat.FORMAT_VERSION && format != BundleFormat.FORMAT_V2) {
            throw new BundleException(Reason.UNSUPPORTED_FORMAT, "bundle format version " + format
                    + " is not supported (this build reads " + BundleFormat.FORMAT_VERSION + " and " + BundleFormat.FORMAT_V2 + "): update the agent first");
        }
        return format;
    }

    private static int manifestLength(DataInputStream d) throws BundleException, IOException {
        long manifestLen = readU32(d, "manifest length");
        if (manifestLen > BundleFormat.MAX_MANIFEST_BYTES) {
            throw new BundleException(Reason.MANIFEST_TOO_LARGE, "manifest length " + manifestLen
                    + " exceeds the limit of " + BundleFormat.MAX_MANIFEST_BYTES + " bytes");
        }
        if (manifestLen == 0) {
            throw new BundleException(Reason.MALFORMED_MANIFEST, "manifest length is 0");
        }
        return (int) manifestLen;
    }

    private static byte[] signature(DataInputStream d) throws BundleException, IOException {
        long sigLen = readU32(d, "signature length");
        if (sigLen > BundleFormat.MAX_SIGNATURE_BYTES) {
            throw new BundleException(Reason.SIGNATURE_TOO_LARGE, "signature length " + sigLen
                    + " exceeds the limit of " + BundleFormat.MAX_SIGNATURE_BYTES + " bytes");
        }
        return readFully(d, (int) sigLen, "signature");
    }

    private static Manifest decode(int format, byte[] b, int offset, int length) throws BundleException {
        Manifest manifest = ManifestCodec.decode(b, offset, length);
        // The format field is outside the signature; the signed manifest decides, and the two must agree.
        if (manifest.formatVersion() != format) {
            throw new BundleException(Reason.MALFORMED_MANIFEST, "header says format " + format + " but the manifest's images are format "
                    + manifest.formatVersion() + " (" + (format == 1 ? "compressed chunks" : "no compressed chunks") + ")");
        }
        return manifest;
    }

    private static long payloadOffset(int manifestLen, byte[] sig) {
        return BundleFormat.PREAMBLE_BYTES + (long) manifestLen + 4 + sig.length;
    }

    /** Reads the header of a bundle file. */
    public static BundleHeader read(Path bundle) throws BundleException, IOException {
        try (FileChannel ch = FileChannel.open(bundle, StandardOpenOption.READ)) {
            return read(new java.io.BufferedInputStream(Channels.newInputStream(ch), 64 * 1024));
        }
    }

    /** Serialises a format 1 header. */
    public static byte[] encode(byte[] manifestBytes, byte[] signature) {
        return encode(BundleFormat.FORMAT_VERSION, manifestBytes, signature);
    }

    /** Serialises a header (used when creating bundles and attaching signatures). */
    public static byte[] encode(int formatVersion, byte[] manifestBytes, byte[] signature) {
        ByteBuffer b = ByteBuffer.allocate(BundleFormat.PREAMBLE_BYTES + manifestBytes.length + 4 + signature.length);
        b.put(BundleFormat.MAGIC).putShort((short) formatVersion)
                .putInt(manifestBytes.length).put(manifestBytes).putInt(signature.length).put(signature);
        return b.array();
    }

    private static byte[] readFully(DataInputStream d, int n, String what) throws BundleException, IOException {
        byte[] b = new byte[n];
        try {
            d.readFully(b);
        } catch (EOFException e) {
            throw new BundleException(Reason.TRUNCATED, "bundle ends inside the " + what + " (" + n + " bytes expected)");
        }
        return b;
    }

    private static int readU16(DataInputStream d, String what) throws BundleException, IOException {
        try {
            return d.readUnsignedShort();
        } catch (EOFException e) {
            throw new BundleException(Reason.TRUNCATED, "bundle ends inside the " + what);
        }
    }

    private static long readU32(DataInputStream d, String what) throws BundleException, IOException {
        try {
            return Integer.toUnsignedLong(d.readInt());
        } catch (EOFException e) {
            throw new BundleException(Reason.TRUNCATED, "bundle ends inside the " + what);
        }
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format(Locale.US, "%02x", x));
        return s.toString();
    }
}
