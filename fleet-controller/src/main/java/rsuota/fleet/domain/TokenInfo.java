package rsuota.fleet.domain;

import java.time.Instant;

/**
 * A stored API token without its secret (the store keeps only the secret's SHA-256).
 *
 * @param expiresAt  when it stops working (null: a token from before expiry existed; rotate it)
 * @param lastUsedAt the last request it authenticated (to the minute), or null
 * @param revokedAt  when an admin revoked it, or null
 * @param revokedBy  who revoked it, or null
 */
public record TokenInfo(long id, String label, Role role, Instant createdAt, String createdBy, Instant expiresAt, Instant lastUsedAt,
                        Instant revokedAt, String revokedBy) {
    public Principal principal() {
        return new Principal(label, role);
    }

    /** active, expired or revoked at {@code now}. */
    public String state(Instant now) {
        if (revokedAt != null) return "revoked";
        if (expiresAt != null && !now.isBefore(expiresAt)) return "expired";
        return "active";
    }
}
