package rsuota.fleet.audit;

import java.sql.SQLException;
import java.util.List;
import rsuota.fleet.domain.AuditEntry;
import rsuota.fleet.store.Tx;

/**
 * Walks the chain from the first entry and stops at the first one that is out of sequence, does
 * not link to its predecessor's hash, or whose stored hash differs from its recomputed content.
 */
public final class AuditVerifier {
    /** Rows read per query, so a long log is checked in constant memory. */
    private static final int PAGE = 1000;

    private AuditVerifier() {}

    public static AuditVerification verify(Tx tx) throws SQLException {
        String prev = AuditChain.GENESIS;
        long expectedSeq = 1;
        long checked = 0;
        while (true) {
            List<AuditEntry> page = tx.audit().page(expectedSeq - 1, PAGE);
            if (page.isEmpty()) return new AuditVerification(true, checked, null, null, prev);
            for (AuditEntry e : page) {
                String problem = check(e, expectedSeq, prev);
                if (problem != null) return new AuditVerification(false, checked, e.seq(), problem, prev);
                prev = e.hash();
                expectedSeq++;
                checked++;
            }
        }
    }

    private static String check(AuditEntry e, long expectedSeq, String prev) {
        if (e.seq() != expectedSeq) {
            return "entry " + e.seq() + " follows entry " + (expectedSeq - 1) + ": entries " + expectedSeq + ".." + (e.seq() - 1)
                    + " are missing";
        }
        if (!prev.equals(e.prevHash())) {
            return "entry " + e.seq() + " names previous hash " + e.prevHash() + " but entry " + (e.seq() - 1) + " hashes to " + prev;
        }
        String recomputed = AuditChain.hash(prev, e);
        if (!recomputed.equals(e.hash())) {
            return "entry " + e.seq() + " (" + e.action() + " " + e.target() + ") was altered: its content hashes to "
                    + recomputed + ", stored hash is " + e.hash();
        }
        return null;
    }
}
