package rsuota.bundle;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Builds bundles: hashes images in one streaming pass (constant memory), writes the header, then
 * copies the payload. Output goes to a temp file renamed into place, so a crash never leaves a
 * half-written bundle under the final name.
 */
public final class BundleWriter {
    private BundleWriter() {}

    /** An image to pack: its slot class and the file holding it. */
    public record ImageSource(String slotClass, Path file) {}

    /** The manifest fields a release engineer chooses; images and hashes are computed. */
    public record Release(String release, long securityVersion, List<String> compatible,
                          Map<String, String> components, Instant createdAt) {}

    /** Computes the manifest for {@code images} at {@code chunkSize}. */
    public static Manifest manifestFor(Release r, List<ImageSource> images, int chunkSize) throws IOException, BundleException {
        List<ManifestImage> out = new ArrayList<>();
        long offset = 0;
        byte[] buf = new byte[Math.min(chunkSize, 1 << 20)];
        for (ImageSource src : images) {
            long size = Files.size(src.file());
            MessageDigest image = Sha256.newDigest();
            List<String> chunks = new ArrayList<>();
            try (FileChannel ch = FileChannel.open(src.file(), StandardOpenOption.READ)) {
                long pos = 0;
                while (pos < size) {
                    MessageDigest chunk = Sha256.newDigest();
                    long end = Math.min(size, pos + chunkSize);
                    while (pos < end) {
                        ByteBuffer bb = ByteBuffer.wrap(buf, 0, (int) Math.min(buf.length, end - pos));
                        int n = ch.read(bb, pos);
                        if (n < 0) throw new IOException(src.file() + " shrank while it was being read");
                        chunk.update(buf, 0, n);
                        image.update(buf, 0, n);
                        pos += n;
                    }
                    chunks.add(Sha256.hex(chunk.digest()));
                }
            }
            out.add(new ManifestImage(src.slotClass(), offset, size, Sha256.hex(image.digest()), chunkSize, chunks));
            offset += size;
        }
        Manifest m = new Manifest(r.release(), r.securityVersion(), r.compatible(), new LinkedHashMap<>(r.components()),
                r.createdAt().toString(), out);
        ManifestCodec.validate(m);
        return m;
    }

    /**
     * Writes a format 2 bundle: each image cut at content-defined boundaries, each chunk compressed
     * with zstd at {@code level}. Memory is constant (a few chunk buffers): compressed chunks are
     * spooled to a temporary file beside {@code out} while the manifest is computed.
     */
    public static Manifest writeV2(Release r, List<ImageSource> images, Chunking chunking, int level,
                                   Function<byte[], byte[]> signer, Path out) throws IOException, BundleException {
        return writeV2(r, images, chunking, level, ChunkCodec.DEFAULT_PREFIX, signer, out);
    }

    /** As above, with each chunk compressed against up to {@code prefix} image bytes before it (0: alone). */
    public static Manifest writeV2(Release r, List<ImageSource> images, Chunking chunking, int level, int prefix,
                                   Function<byte[], byte[]> signer, Path out) throws IOException, BundleException {
        Path abs = out.toAbsolutePath();
        Path spool = abs.resolveSibling("." + abs.getFileName() + ".chunks");
        try (FileChannel sp = FileChannel.open(spool, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ); ChunkCodec codec = new ChunkCodec()) {
            List<ManifestImage> out2 = new ArrayList<>();
            long offset = 0;
            byte[] z = new byte[ChunkCodec.compressBound(chunking.max())];
            for (ImageSource src : images) {
                long size = Files.size(src.file());
                MessageDigest image = Sha256.newDigest();
                List<String> ids = new ArrayList<>();
                List<ManifestImage.Stored> stored = new ArrayList<>();
                long start = sp.position();
                PrefixWindow window = new PrefixWindow(prefix);
                try (FileChannel ch = FileChannel.open(src.file(), StandardOpenOption.READ)) {
                    long read = chunking.split(ch, size, (at, buf, off, len) -> {
                        image.update(buf, off, len);
                        ids.add(Sha256.of(buf, off, len));
                        int zl = codec.compress(buf, off, len, z, level, window.bytes());
                        window.append(buf, off, len);
                        stored.add(new ManifestImage.Stored(len, zl, Sha256.of(z, 0, zl)));
                        ByteBuffer bb = ByteBuffer.wrap(z, 0, zl);
                        while (bb.hasRemaining()) sp.write(bb);
                    });
                    if (read != size) throw new IOException(src.file() + " changed size while it was being read");
                }
                out2.add(new ManifestImage(src.slotClass(), offset, size, Sha256.hex(image.digest()), chunking.max(), ids,
                        new ManifestImage.Cdc(chunking.min(), chunking.avg(), "zstd", prefix, stored)));
                offset += sp.position() - start;
            }
            Manifest m = new Manifest(r.release(), r.securityVersion(), r.compatible(), new LinkedHashMap<>(r.components()),
                    r.createdAt().toString(), out2);
            ManifestCodec.validate(m);
            assemble(m, signer, sp, out);
            return m;
        } finally {
            Files.deleteIfExists(spool);
        }
    }

    /**
     * Writes {@code m} (validated here), its signature and {@code payload} (the channel's whole
     * content, which must be the payload {@code m} describes) as a bundle. Also how tests build
     * bundles whose signed manifest lies about its chunks.
     */
    public static void assemble(Manifest m, Function<byte[], byte[]> signer, FileChannel payload, Path out) throws IOException, BundleException {
        ManifestCodec.validate(m);
        if (payload.size() != m.payloadSize()) {
            throw new BundleException(Reason.TRUNCATED, "payload is " + payload.size() + " bytes, manifest declares " + m.payloadSize());
        }
        byte[] manifestBytes = checkedSize(m);
        byte[] sig = signer == null ? new byte[0] : signer.apply(manifestBytes);
        writeAtomically(out, o -> {
            o.write(BundleHeader.encode(m.formatVersion(), manifestBytes, sig));
            var wc = java.nio.channels.Channels.newChannel(o);
            long pos = 0;
            while (pos < payload.size()) pos += payload.transferTo(pos, payload.size() - pos, wc);
        });
    }

    /**
     * Writes a bundle. {@code signer} turns the manifest bytes into a CMS DER signature; null
     * writes an unsigned bundle (for signing elsewhere, e.g. an HSM).
     */
    public static Manifest write(Release r, List<ImageSource> images, int chunkSize,
                                 Function<byte[], byte[]> signer, Path out) throws IOException, BundleException {
        Manifest m = manifestFor(r, images, chunkSize);
        byte[] manifestBytes = checkedSize(m);
        byte[] sig = signer == null ? new byte[0] : signer.apply(manifestBytes);
        writeAtomically(out, o -> {
            o.write(BundleHeader.encode(manifestBytes, sig));
            for (ImageSource src : images) Files.copy(src.file(), o);
        });
        return m;
    }

    /**
     * {@code m}'s bytes, refused here when they are more than a unit accepts
     * ({@link BundleFormat#MAX_MANIFEST_BYTES}), rather than by every unit the release is sent to: the
     * manifest names every chunk (format 2: about 150 bytes a chunk, so ~3.5 GiB at the default 64 KiB
     * average), and larger chunks make it smaller.
     */
    private static byte[] checkedSize(Manifest m) throws BundleException {
        byte[] b = ManifestCodec.encode(m);
        if (b.length > BundleFormat.MAX_MANIFEST_BYTES) {
            int chunks = 0;
            for (ManifestImage im : m.images()) chunks += im.chunkCount();
            throw new BundleException(Reason.MANIFEST_TOO_LARGE, "the manifest would be " + b.length + " bytes (" + chunks
                    + " chunks), more than the " + BundleFormat.MAX_MANIFEST_BYTES + " a unit accepts; build with larger chunks"
                    + (m.formatVersion() >= BundleFormat.FORMAT_V2 ? " (e.g. --chunk-min 64KiB --chunk-avg 256KiB --chunk-max 512KiB: a quarter as many)"
                    : " (--chunk-size)"));
        }
        return b;
    }

    /** Replaces the signature of {@code bundle} with {@code signature}, keeping manifest and payload. */
    public static void attachSignature(Path bundle, byte[] signature, Path out) throws IOException, BundleException {
        if (signature.length > BundleFormat.MAX_SIGNATURE_BYTES) {
            throw new BundleException(Reason.SIGNATURE_TOO_LARGE, "signature is " + signature.length
                    + " bytes, limit " + BundleFormat.MAX_SIGNATURE_BYTES);
        }
        BundleHeader h = BundleHeader.read(bundle);
        long payload = h.manifest().payloadSize();
        try (FileChannel in = FileChannel.open(bundle, StandardOpenOption.READ)) {
            if (in.size() < h.payloadOffset() + payload) {
                throw new BundleException(Reason.TRUNCATED, "bundle payload is " + (in.size() - h.payloadOffset())
                        + " bytes, manifest declares " + payload);
            }
            writeAtomically(out, o -> {
                o.write(BundleHeader.encode(h.formatVersion(), h.manifestBytes(), signature));
                long pos = h.payloadOffset();
                long end = pos + payload;
                var wc = java.nio.channels.Channels.newChannel(o);
                while (pos < end) pos += in.transferTo(pos, end - pos, wc);
            });
        }
    }

    interface Body {
        void write(OutputStream o) throws IOException;
    }

    static void writeAtomically(Path out, Body body) throws IOException {
        Path abs = out.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
             OutputStream o = new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(ch), 1 << 20)) {
            body.write(o);
            o.flush();
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
