package rsuota.fleet.domain;

import java.time.Instant;

/** A stored API token without its secret (the store keeps only the secret's SHA-256). */
public record TokenInfo(long id, String label, Role role, Instant createdAt, String createdBy) {
    public Principal principal() {
        return new Principal(label, role);
    }
}
