package rsuota.agent.download;

import rsuota.bundle.Manifest;

/**
 * A bundle header that passed signature, digest and pre-flight checks (image fits the slot,
 * journal fits the state directory); nothing was written to any slot yet. It keeps what the fill
 * needs and not the header's bytes: a 1 GiB image's header is about 2 MiB, which an install's
 * small heap should not hold twice through the whole download (docs/benchmarks.md, "Install peak RSS").
 *
 * @param manifest       the verified manifest
 * @param manifestDigest SHA-256 of the signed manifest bytes
 * @param payloadOffset  where the payload starts in the bundle
 * @param identity       size and ETag of the bundle the header came from: the chunks must come from the same
 */
public record VerifiedHeader(Manifest manifest, String manifestDigest, long payloadOffset, BundleSource.Identity identity) {

    /**
     * A header just fetched: verified, and the file it was fetched into (fsync'd), to keep so a resumed
     * download verifies it again without fetching it.
     */
    public record Fetched(VerifiedHeader header, java.nio.file.Path file) {}
}
