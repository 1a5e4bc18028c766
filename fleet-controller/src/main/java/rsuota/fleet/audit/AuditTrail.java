package rsuota.fleet.audit;

import java.util.List;
import rsuota.fleet.domain.AuditEntry;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.store.Database;

/** Reading the audit log: pages, the chain check, and the full export. */
public final class AuditTrail {
    private final Database db;

    public AuditTrail(Database db) {
        this.db = db;
    }

    /** Entries matching {@code q} after {@code afterSeq}, in chain order; {@code limit} at most. */
    public List<AuditEntry> page(rsuota.fleet.store.AuditRepository.Query q, long afterSeq, int limit) throws FleetException {
        return db.read(tx -> tx.audit().page(q, afterSeq, limit));
    }

    /** Up to {@code limit} entries after {@code afterSeq}, in order. */
    public List<AuditEntry> page(long afterSeq, int limit) throws FleetException {
        return db.read(tx -> tx.audit().page(afterSeq, limit));
    }

    /** Checks the whole chain in one read snapshot. */
    public AuditVerification verify() throws FleetException {
        return db.read(AuditVerifier::verify);
    }

    public long size() throws FleetException {
        return db.read(tx -> tx.audit().count());
    }
}
