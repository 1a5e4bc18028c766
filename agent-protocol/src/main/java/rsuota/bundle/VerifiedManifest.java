package rsuota.bundle;

/**
 * A manifest whose signature, signer chain and policy checks passed. Only instances of this type
 * may steer a download: payload chunks are checked against its hashes.
 *
 * @param manifest       the manifest
 * @param manifestBytes  the exact signed bytes
 * @param manifestDigest lower-case hex SHA-256 of the manifest bytes (the identity controllers name)
 * @param signer         who signed it
 * @param payloadOffset  absolute offset of the payload in the bundle
 */
public record VerifiedManifest(Manifest manifest, byte[] manifestBytes, String manifestDigest, SignerInfo signer, long payloadOffset) {}
