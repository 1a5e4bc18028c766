package rsuota.agent.download;

import rsuota.agent.AgentException;
import rsuota.agent.AgentError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import rsuota.bundle.BundleException;
import rsuota.bundle.BundleFormat;
import rsuota.bundle.BundleHeader;
import rsuota.bundle.BundleVerifier;
import rsuota.bundle.ManifestImage;
import rsuota.hal.boot.Slot;

/**
 * The header step of a download: fetched first and verified (signature, ordered digest, size,
 * slot classes, chunk size, room on the slot and for the journal) before any payload byte is
 * requested, so an untrusted or unfitting bundle costs one small request and writes nothing.
 */
final class HeaderCheck {
    /**
     * First header request: enough for the header of a multi-GiB format 1 bundle at 4 MiB chunks
     * (~20 KiB); a format 2 manifest (~150 bytes per 64 KiB chunk) takes one or two more requests.
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

    VerifiedHeader.Fetched fetch(BundleSource src, String expectedDigest) throws AgentException, InterruptedException {
        BundleSource.Fetched f = retrying.run(() -> src.fetch(0, FIRST_HEADER_FETCH, null, null), "header");
        byte[] head = java.util.Arrays.copyOf(f.data(), f.length());
        // A manifest longer than the first request (format 2 lists every chunk twice) ends past it: the
        // first extension reaches the signature's length field, the second the signature. Two at most.
        for (int round = 0; round < 2; round++) {
            long needed = headerLength(head);
            if (needed <= head.length) break;
            if (needed > BundleFormat.MAX_HEADER_BYTES) throw new AgentException(AgentError.MANIFEST_TOO_LARGE, "bundle header of " + needed + " bytes exceeds the limit");
            head = extend(src, head, (int) needed, f.identity());
        }
        return new VerifiedHeader.Fetched(verify(head, f.identity(), expectedDigest), head);
    }

    /** Largest piece of a header extension fetched at once: the header is assembled in place, not copied whole. */
    static final int HEADER_PIECE = 256 * 1024;

    /**
     * {@code head} grown to {@code needed} bytes, the rest fetched in pieces of {@link #HEADER_PIECE}
     * into one buffer and copied into place; shorter where the bundle ends (the parser then says so).
     */
    private byte[] extend(BundleSource src, byte[] head, int needed, BundleSource.Identity id) throws AgentException, InterruptedException {
        byte[] all = java.util.Arrays.copyOf(head, needed);
        byte[] piece = new byte[Math.min(HEADER_PIECE, needed - head.length)];
        int at = head.length;
        while (at < needed) {
            int from = at;
            int n = Math.min(piece.length, needed - at);
            BundleSource.Fetched got = retrying.run(() -> src.fetch(from, n, id, piece), "header");
            System.arraycopy(got.data(), 0, all, at, got.length());
            at += got.length();
            if (got.length() < n) return java.util.Arrays.copyOf(all, at);
        }
        return all;
    }

    /** The header length from the preamble, or the bytes we have if the preamble is cut (the parser then says why). */
    private static long headerLength(byte[] b) throws AgentException {
        if (b.length < BundleFormat.PREAMBLE_BYTES) return b.length;
        long m = Integer.toUnsignedLong(ByteBuffer.wrap(b, 6, 4).getInt());
        if (m > BundleFormat.MAX_MANIFEST_BYTES) {
            throw new AgentException(AgentError.MANIFEST_TOO_LARGE, "manifest length " + m + " exceeds the limit of " + BundleFormat.MAX_MANIFEST_BYTES);
        }
        if (b.length < BundleFormat.PREAMBLE_BYTES + m + 4) return BundleFormat.PREAMBLE_BYTES + m + 4;
        long s = Integer.toUnsignedLong(ByteBuffer.wrap(b, (int) (BundleFormat.PREAMBLE_BYTES + m), 4).getInt());
        if (s > BundleFormat.MAX_SIGNATURE_BYTES) {
            throw new AgentException(AgentError.SIGNATURE_TOO_LARGE, "signature length " + s + " exceeds the limit");
        }
        return BundleFormat.PREAMBLE_BYTES + m + 4 + s;
    }

    VerifiedHeader verify(byte[] head, BundleSource.Identity identity, String expectedDigest) throws AgentException {
        BundleVerifier.Verified vm;
        try {
            // in place: the manifest is parsed and verified where it lies in head, not copied out of it
            vm = verifier.verifyHeader(BundleHeader.readInPlace(head));
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
            long journalBytes = 4096L + 24L * rootfs.chunkCount() + head.length;
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
