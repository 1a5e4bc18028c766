package rsuota.agent.download;

import rsuota.agent.AgentException;
import rsuota.agent.AgentError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import rsuota.bundle.BundleException;
import rsuota.bundle.BundleFormat;
import rsuota.bundle.BundleHeader;
import rsuota.bundle.BundleVerifier;
import rsuota.bundle.ManifestImage;
import rsuota.hal.boot.Slot;

/**
 * The header step of a download: fetched first and verified (signature, ordered digest, size,
 * slot classes, chunk size, room on the slot and for the journal) before any payload byte is
 * requested, so an untrusted or unfitting bundle costs a few small requests and writes nothing to
 * a slot. The header goes to a file in the state directory and is verified from there, its
 * tables kept there too (docs/architecture.md, the download path).
 */
final class HeaderCheck {
    /**
     * First header request: enough for the header of a multi-GiB format 1 bundle at 4 MiB chunks
     * (~20 KiB); a format 2 manifest (~150 bytes per 64 KiB chunk) takes more, in pieces of
     * {@link #HEADER_PIECE} (a 1 GiB image's 1.8 MiB header: about ten requests).
     */
    static final int FIRST_HEADER_FETCH = 32 * 1024;
    /** Largest chunk held in memory; bigger chunk sizes are refused before downloading. */
    static final int MAX_CHUNK_BUFFER = 16 * 1024 * 1024;
    /** Slot class written to the A/B slot storage. */
    static final String ROOTFS = "rootfs";

    private final BundleVerifier verifier;
    private final DownloadTarget target;
    private final Retrying retrying;

    HeaderCheck(BundleVerifier verifier, DownloadTarget target, Retrying retrying) {
        this.verifier = verifier;
        this.target = target;
        this.retrying = retrying;
    }

    /** The manifest's per-chunk tables ({@link rsuota.bundle.SpilledTables}), written as it is parsed, in the journal's directory. */
    static final String TABLES = "manifest.tables";

    /** The header being fetched, in the journal's directory; {@code pending} keeps it as header.bin once verified. */
    static final String SPOOL = "header.fetch";

    /**
     * Fetches the header into {@link #SPOOL} (fsync'd) and verifies it from there: its bytes are
     * never held whole, only a piece at a time (docs/benchmarks.md, "Install peak RSS").
     */
    VerifiedHeader.Fetched fetch(BundleSource src, String expectedDigest) throws AgentException, InterruptedException, IOException {
        Path spool = target.journalDir().resolve(SPOOL);
        BundleSource.Identity id;
        try (FileChannel ch = FileChannel.open(spool, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            BundleSource.Fetched f = retrying.run(() -> src.fetch(0, FIRST_HEADER_FETCH, null, null), "header");
            id = f.identity();
            SlotFiller.writeChunk(ch, 0, f.data(), f.length());
            long have = f.length();
            // A manifest longer than the first request (format 2 lists every chunk twice) ends past it: the
            // first extension reaches the signature's length field, the second the signature. Two at most.
            for (int round = 0; round < 2; round++) {
                long needed = headerLength(ch, have);
                if (needed <= have) break;
                if (needed > BundleFormat.MAX_HEADER_BYTES) throw new AgentException(AgentError.MANIFEST_TOO_LARGE, "bundle header of " + needed + " bytes exceeds the limit");
                have = extend(src, ch, have, needed, id);
            }
            ch.force(true);
        }
        return new VerifiedHeader.Fetched(verify(spool, id, expectedDigest), spool);
    }

    /** Largest piece of a header extension fetched at once. */
    static final int HEADER_PIECE = 256 * 1024;

    /**
     * The header file grown from {@code have} to {@code needed} bytes in pieces of at most
     * {@link #HEADER_PIECE}; shorter where the bundle ends (the parser then says so). Returns its length.
     */
    private long extend(BundleSource src, FileChannel ch, long have, long needed, BundleSource.Identity id)
            throws AgentException, InterruptedException, IOException {
        byte[] piece = new byte[(int) Math.min(HEADER_PIECE, needed - have)];
        while (have < needed) {
            long from = have;
            int n = (int) Math.min(piece.length, needed - have);
            BundleSource.Fetched got = retrying.run(() -> src.fetch(from, n, id, piece), "header");
            SlotFiller.writeChunk(ch, have, got.data(), got.length());
            have += got.length();
            if (got.length() < n) break;
        }
        return have;
    }

    /** The header length from the preamble, or the bytes we have if the preamble is cut (the parser then says why). */
    private static long headerLength(FileChannel ch, long have) throws AgentException, IOException {
        if (have < BundleFormat.PREAMBLE_BYTES) return have;
        long m = Integer.toUnsignedLong(readInt(ch, 6));
        if (m > BundleFormat.MAX_MANIFEST_BYTES) {
            throw new AgentException(AgentError.MANIFEST_TOO_LARGE, "manifest length " + m + " exceeds the limit of " + BundleFormat.MAX_MANIFEST_BYTES);
        }
        if (have < BundleFormat.PREAMBLE_BYTES + m + 4) return BundleFormat.PREAMBLE_BYTES + m + 4;
        long s = Integer.toUnsignedLong(readInt(ch, BundleFormat.PREAMBLE_BYTES + m));
        if (s > BundleFormat.MAX_SIGNATURE_BYTES) {
            throw new AgentException(AgentError.SIGNATURE_TOO_LARGE, "signature length " + s + " exceeds the limit");
        }
        return BundleFormat.PREAMBLE_BYTES + m + 4 + s;
    }

    private static int readInt(FileChannel ch, long at) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(4);
        while (bb.hasRemaining()) {
            if (ch.read(bb, at + bb.position()) < 0) throw new java.io.EOFException("header file ends at " + (at + bb.position()));
        }
        return bb.getInt(0);
    }

    /** Verifies the header kept in {@code file}, streamed from it (never held whole). */
    VerifiedHeader verify(Path file, BundleSource.Identity identity, String expectedDigest) throws AgentException, IOException {
        BundleVerifier.Verified vm;
        long headerBytes;
        try {
            // the per-chunk tables go to a file as they are parsed, read back (checked) as the fill walks them
            vm = verifier.verifyHeader(BundleHeader.readSpooled(file, target.journalDir().resolve(TABLES)));
            headerBytes = Files.size(file);
        } catch (BundleException e) {
            throw new AgentException(AgentError.of(e.reason()), e.getMessage());
        }
        if (expectedDigest != null && !expectedDigest.equals(vm.manifestDigest())) {
            throw new AgentException(AgentError.BUNDLE_MISMATCH, "the bundle's manifest digest " + vm.manifestDigest()
                    + " is not the one ordered (" + expectedDigest + "): wrong or replaced bundle");
        }
        long total = vm.payloadOffset() + vm.manifest().payloadSize();
        if (identity.size() != total) {
            throw new AgentException(AgentError.TRUNCATED, "bundle is " + identity.size() + " bytes but its manifest accounts for " + total);
        }
        ManifestImage rootfs = vm.manifest().image(ROOTFS);
        if (rootfs == null) {
            throw new AgentException(AgentError.NO_ROOTFS_IMAGE, "bundle has no '" + ROOTFS + "' image; this device installs slot class rootfs");
        }
        for (ManifestImage im : vm.manifest().images()) {
            if (!im.slotClass().equals(ROOTFS)) {
                throw new AgentException(AgentError.UNKNOWN_SLOT_CLASS, "bundle image '" + im.slotClass()
                        + "' has no slot on this device (configured: " + ROOTFS + ")");
            }
            if (im.chunkSize() > MAX_CHUNK_BUFFER) {
                throw new AgentException(AgentError.CHUNK_TOO_LARGE, "chunk size " + im.chunkSize() + " exceeds this agent's "
                        + MAX_CHUNK_BUFFER + "-byte buffer; rebuild the bundle with --chunk-size 4MiB");
            }
        }
        Slot slot = target.slot();
        try {
            long slotSize = target.size();
            if (rootfs.size() > slotSize) {
                throw new AgentException(AgentError.IMAGE_TOO_LARGE, "image rootfs is " + rootfs.size() + " bytes but slot "
                        + slot + " (" + target.describe() + ") holds " + slotSize);
            }
            long journalBytes = 4096L + 24L * rootfs.chunkCount() + headerBytes;
            long free = Files.getFileStore(target.journalDir()).getUsableSpace();
            if (free < journalBytes + 1024 * 1024) {
                throw new AgentException(AgentError.NO_SPACE, "state directory " + target.journalDir() + " has " + free
                        + " bytes free; the download journal needs " + journalBytes + " plus 1 MiB headroom");
            }
        } catch (IOException e) {
            throw new AgentException(AgentError.SLOT_IO_ERROR, "slot " + slot + " (" + target.describe() + "): " + e.getMessage());
        }
        return new VerifiedHeader(vm.manifest(), vm.manifestDigest(), vm.payloadOffset(), identity);
    }
}
