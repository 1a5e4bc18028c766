package rsuota.bundle;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What a verifier trusts and enforces.
 *
 * @param keyring            trust anchors (root certificates); the signer must chain to one of them
 * @param variant            this device's variant, or null to skip the compatibility check (controller, tools)
 * @param minSecurityVersion the anti-downgrade floor: bundles below it are refused
 * @param trustedNow         the current time when the clock is known to be synchronised (NTP/GNSS),
 *                           else empty. A box without an RTC boots in 1970: its clock is never used
 *                           unless this says it can be.
 * @param maxClockSkew       how far in the future a signing time may lie when the clock is trusted
 * @param strict             refuse what verifies but is not the one canonical form: unsigned CMS
 *                           attributes and a high-S ECDSA value (docs/bundle-format.md, "Strict policy")
 */
public record VerifyOptions(List<X509Certificate> keyring, String variant, long minSecurityVersion,
                            Supplier<Optional<Instant>> trustedNow, Duration maxClockSkew, boolean strict) {
    public VerifyOptions {
        keyring = List.copyOf(keyring);
        if (keyring.isEmpty()) throw new IllegalArgumentException("keyring has no certificates");
    }

    /** Options with no variant check, floor 0 and no trusted clock. */
    public static VerifyOptions of(List<X509Certificate> keyring) {
        return new VerifyOptions(keyring, null, 0, Optional::empty, Duration.ofMinutes(5), false);
    }

    public VerifyOptions withVariant(String v) {
        return new VerifyOptions(keyring, v, minSecurityVersion, trustedNow, maxClockSkew, strict);
    }

    public VerifyOptions withMinSecurityVersion(long floor) {
        return new VerifyOptions(keyring, variant, floor, trustedNow, maxClockSkew, strict);
    }

    public VerifyOptions withTrustedNow(Supplier<Optional<Instant>> now) {
        return new VerifyOptions(keyring, variant, minSecurityVersion, now, maxClockSkew, strict);
    }

    public VerifyOptions withStrict(boolean s) {
        return new VerifyOptions(keyring, variant, minSecurityVersion, trustedNow, maxClockSkew, s);
    }
}
