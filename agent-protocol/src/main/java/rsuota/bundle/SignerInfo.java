package rsuota.bundle;

import java.time.Instant;

/**
 * Who signed a verified manifest, and when they said they did.
 *
 * @param subject     signer certificate subject DN
 * @param issuer      signer certificate issuer DN
 * @param serial      signer certificate serial (hex)
 * @param signingTime the CMS signingTime attribute, the instant certificate validity was checked at
 * @param algorithm   signature algorithm, e.g. "SHA256withECDSA"
 */
public record SignerInfo(String subject, String issuer, String serial, Instant signingTime, String algorithm) {}
