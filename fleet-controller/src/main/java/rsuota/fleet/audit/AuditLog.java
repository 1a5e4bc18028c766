package rsuota.fleet.audit;

import java.sql.SQLException;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import rsuota.fleet.domain.AuditEntry;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.store.Tx;

/**
 * Appends to the audit chain. Call it inside the write transaction that makes the change, so the
 * change and its entry commit together or not at all:
 *
 * <pre>{@code
 * db.write(tx -> {
 *     ... change ...
 *     audit.append(tx, who, "rollout.pause", "rollout:" + id, reason, Map.of("rule", rule));
 *     return result;
 * });
 * }</pre>
 *
 * Action names are {@code noun.verb} ("release.create", "cohort.members.add"); targets are
 * {@code kind:id} ("release:2.4.0", "cohort:3").
 *
 * <p>The chain stays linear because the store serialises write transactions (one writer at a
 * time, see {@code SqliteDatabase}); a store with concurrent writers must serialise appends too,
 * or two entries would claim the same predecessor (the seq primary key then refuses the second).
 */
public final class AuditLog {
    private final Clock clock;

    public AuditLog(Clock clock) {
        this.clock = clock;
    }

    public Clock clock() {
        return clock;
    }

    /** Appends one entry after the current head and returns it with its hash. */
    public AuditEntry append(Tx tx, Principal who, String action, String target, String reason, Map<String, ?> detail)
            throws SQLException {
        Optional<AuditEntry> head = tx.audit().last();
        long seq = head.map(h -> h.seq() + 1).orElse(1L);
        String prev = head.map(AuditEntry::hash).orElse(AuditChain.GENESIS);
        AuditEntry draft = new AuditEntry(seq, Millis.now(clock), who.label(), who.role().wire(),
                action, target, reason, AuditChain.canonicalDetail(detail), prev, null);
        AuditEntry entry = new AuditEntry(draft.seq(), draft.at(), draft.actor(), draft.role(), draft.action(), draft.target(),
                draft.reason(), draft.detail(), prev, AuditChain.hash(prev, draft));
        tx.audit().insert(entry);
        return entry;
    }
}
