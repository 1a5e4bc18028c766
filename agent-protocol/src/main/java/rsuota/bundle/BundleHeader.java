package rsuota.bundle;

import java.util.Locale;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
        Manifest manifest = checkFormat(format, ManifestCodec.decode(manifestBytes));
        return new BundleHeader(format, manifestBytes, sig, payloadOffset(manifestLen, sig), manifest);
    }

    /**
     * A header kept in a file (a unit's fetched {@code header.bin}), read without holding it whole:
     * the manifest is parsed as it streams from the file, its SHA-256 taken in the same pass. A 1 GiB
     * image's header is 1.8 MiB, a 2 GiB one's 3.8 MiB, which an install's small heap held once as the
     * fetched bytes and once as the manifest's copy (docs/benchmarks.md, "Install peak RSS").
     * {@link BundleVerifier#verifyHeader(Spooled)} streams the same bytes again through the signature
     * check and refuses them unless they hash the same.
     *
     * @param manifestOffset where the manifest's bytes start in {@code file}
     * @param manifestDigest lower-case hex SHA-256 of the manifest bytes as parsed
     */
    public record Spooled(Path file, int formatVersion, long manifestOffset, int manifestLength, String manifestDigest, byte[] signature,
                          long payloadOffset, Manifest manifest) {
        public boolean signed() {
            return signature.length > 0;
        }
    }

    /** Parses the header at the start of {@code file} ({@link Spooled}); the same checks and errors as {@link #read(InputStream)}. */
    public static Spooled readSpooled(Path file) throws BundleException, IOException {
        return readSpooled(file, null);
    }

    /**
     * As {@link #readSpooled(Path)}, with each format 2 image's per-chunk tables written to {@code tables} (created
     * or replaced) as the manifest is parsed, and read back from there, checked ({@link SpilledTables}): a 4 GiB
     * image's 52,000 chunks never sit in the heap at once. Null {@code tables}: they stay in memory.
     */
    public static Spooled readSpooled(Path file, Path tables) throws BundleException, IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
             SpilledTables.Writer spill = tables == null ? null : new SpilledTables.Writer(tables)) {
            DataInputStream d = new DataInputStream(new java.io.BufferedInputStream(Channels.newInputStream(ch), 64));
            int format = preamble(d);
            int manifestLen = manifestLength(d);
            // as read(InputStream): a cut manifest, then the signature's length and bytes, before the manifest's content
            long size = ch.size();
            if (size < BundleFormat.PREAMBLE_BYTES + (long) manifestLen) {
                throw new BundleException(Reason.TRUNCATED, "bundle ends inside the manifest (" + manifestLen + " bytes expected)");
            }
            ch.position(BundleFormat.PREAMBLE_BYTES + (long) manifestLen);
            byte[] sig = signature(new DataInputStream(new java.io.BufferedInputStream(Channels.newInputStream(ch), 4096)));
            ch.position(BundleFormat.PREAMBLE_BYTES);
            java.security.MessageDigest sha = Sha256.newDigest();
            InputStream manifestIn = new java.security.DigestInputStream(new Range(Channels.newInputStream(ch), manifestLen), sha);
            Manifest manifest = checkFormat(format, spill == null ? ManifestCodec.decode(manifestIn) : ManifestCodec.decode(manifestIn, spill));
            // the parser stops at the end of the JSON value (whitespace may follow): the digest covers every byte
            manifestIn.transferTo(OutputStream.nullOutputStream());
            return new Spooled(file, format, BundleFormat.PREAMBLE_BYTES, manifestLen, Sha256.hex(sha.digest()), sig,
                    payloadOffset(manifestLen, sig), manifest);
        }
    }

    /** The next {@code left} bytes of a stream, then its end. */
    static final class Range extends java.io.FilterInputStream {
        private long left;

        Range(InputStream in, long length) {
            super(in);
            this.left = length;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) return -1;
            int b = super.read();
            if (b >= 0) left--;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) return -1;
            int n = super.read(b, off, (int) Math.min(len, left));
            if (n > 0) left -= n;
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long k = super.skip(Math.min(n, left));
            left -= k;
            return k;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(super.available(), left);
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        @Override
        public void close() {
            // the channel is its owner's
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

    private static Manifest checkFormat(int format, Manifest manifest) throws BundleException {
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
