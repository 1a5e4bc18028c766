package rsuota.bundle;

/**
 * Stable reason codes for every way a bundle can be refused. Devices report them to the
 * controller and the CLI prints them, so names never change once released.
 */
public enum Reason {
    /** The file does not start with "RSUB": not a bundle, or the wrong file. */
    BAD_MAGIC,
    /** The header's format version is one this build does not read. */
    UNSUPPORTED_FORMAT,
    /** The bundle ends before a length-prefixed field or the payload it declares. */
    TRUNCATED,
    /** Bytes follow the last declared image: the bundle is not what was signed. */
    TRAILING_DATA,
    /** The declared manifest length exceeds {@link BundleFormat#MAX_MANIFEST_BYTES}. */
    MANIFEST_TOO_LARGE,
    /** The declared signature length exceeds {@link BundleFormat#MAX_SIGNATURE_BYTES}. */
    SIGNATURE_TOO_LARGE,
    /** The manifest is not valid JSON of the expected shape, or its numbers are inconsistent. */
    MALFORMED_MANIFEST,
    /** The bundle carries no signature (made with --unsigned and never signed). */
    UNSIGNED,
    /**
     * Strict policy: the signature verifies but is not in its one canonical form (unsigned CMS
     * attributes, or a high-S ECDSA value that anyone can flip without the key).
     */
    NON_CANONICAL_SIGNATURE,
    /** The CMS structure is malformed or the signature does not match the manifest bytes. */
    SIGNATURE_INVALID,
    /** The signer does not chain to a trust anchor of the keyring. */
    UNTRUSTED_SIGNER,
    /** A certificate of the chain was not valid at the signing time (or the signing time is in the future). */
    CERT_NOT_VALID_AT_SIGNING_TIME,
    /** The signer certificate lacks digitalSignature key usage or codeSigning extended key usage. */
    CERT_USAGE,
    /** A key or algorithm outside the allow-list (ECDSA P-256/P-384, Ed25519, RSA >= 3072; SHA-2). */
    WEAK_ALGORITHM,
    /** The manifest's compatible list does not name this device's variant. */
    INCOMPATIBLE_VARIANT,
    /** The manifest's securityVersion is below the device's floor. */
    DOWNGRADE,
    /** A payload chunk's SHA-256 differs from the signed list. */
    CHUNK_HASH_MISMATCH,
    /** A whole image's SHA-256 differs from the signed value. */
    IMAGE_HASH_MISMATCH,
    /**
     * Format 2: a chunk's stored bytes match their signed hash but inflate to other bytes than the
     * signed identity (or a shorter length): the bundle is corrupt as signed.
     */
    CHUNK_IDENTITY_MISMATCH,
    /** Format 2: a chunk inflates past its signed length (a decompression bomb) or is not zstd. */
    CHUNK_INFLATE_LIMIT
}
