package rsuota.fleet.domain;

import java.time.Instant;

/**
 * One row of the append-only audit log.
 *
 * @param seq      position in the chain, from 1, without gaps
 * @param at       when (controller clock, millisecond precision)
 * @param actor    token label or system component
 * @param role     the actor's role at the time
 * @param action   what was done ("release.create", "cohort.members.add", ...)
 * @param target   what it was done to ("release:2.4.0", "cohort:3", ...)
 * @param reason   why, as the caller said (null when none was given)
 * @param detail   canonical JSON object with the specifics (never null; "{}" when empty)
 * @param prevHash hash of the previous entry (64 zeros for the first)
 * @param hash     SHA-256 over prevHash and the canonical JSON of this entry, lower-case hex
 */
public record AuditEntry(long seq, Instant at, String actor, String role, String action, String target,
                         String reason, String detail, String prevHash, String hash) {}
