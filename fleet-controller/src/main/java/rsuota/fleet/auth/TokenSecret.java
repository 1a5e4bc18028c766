package rsuota.fleet.auth;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import rsuota.bundle.Sha256;

/**
 * Bearer token secrets: 32 random bytes, base64url, behind a fixed prefix so that secret scanners
 * and people recognise one in a log or a paste. The store keeps only {@link #hash}.
 */
public final class TokenSecret {
    private TokenSecret() {}

    public static final String PREFIX = "rsuota_";
    /** 256 bits: guessing is hopeless, so a plain SHA-256 (no slow KDF) is enough to store it. */
    private static final int BYTES = 32;
    /** Longer presented strings are refused before hashing (prefix + 43 base64url characters). */
    static final int MAX_LENGTH = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    public static String generate() {
        byte[] b = new byte[BYTES];
        RANDOM.nextBytes(b);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Lower-case hex SHA-256 of the secret's UTF-8 bytes. */
    public static String hash(String secret) {
        return Sha256.of(secret.getBytes(StandardCharsets.UTF_8));
    }
}
