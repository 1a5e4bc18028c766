package rsuota.agent.download;

import rsuota.bundle.VerifiedManifest;

/**
 * A bundle header that passed signature, digest and pre-flight checks (image fits the slot,
 * journal fits the state directory); nothing was written to any slot yet.
 *
 * @param manifest    the verified manifest
 * @param identity    size and ETag of the bundle the header came from: the chunks must come from the same
 * @param headerBytes the raw header, kept so a resumed download verifies it again without fetching it
 */
public record VerifiedHeader(VerifiedManifest manifest, BundleSource.Identity identity, byte[] headerBytes) {}
