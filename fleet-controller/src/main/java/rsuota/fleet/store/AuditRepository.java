package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import rsuota.fleet.domain.AuditEntry;

/**
 * Raw rows of the audit chain. Append-only by construction: there is no update or delete here.
 * Appending goes through {@code rsuota.fleet.audit.AuditLog}, which computes the hashes.
 */
public final class AuditRepository {
    private static final String COLUMNS = "seq, at, actor, role, action, target, reason, detail, prev_hash, hash";

    private final Connection c;

    AuditRepository(Connection c) {
        this.c = c;
    }

    public Optional<AuditEntry> last() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM audit ORDER BY seq DESC LIMIT 1");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(row(rs)) : Optional.empty();
        }
    }

    public void insert(AuditEntry e) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, e.seq());
            Sql.setMillis(ps, 2, e.at());
            ps.setString(3, e.actor());
            ps.setString(4, e.role());
            ps.setString(5, e.action());
            ps.setString(6, e.target());
            Sql.setText(ps, 7, e.reason());
            ps.setString(8, e.detail());
            ps.setString(9, e.prevHash());
            ps.setString(10, e.hash());
            ps.executeUpdate();
        }
    }

    /** Up to {@code limit} entries with seq greater than {@code afterSeq}, in chain order. */
    public List<AuditEntry> page(long afterSeq, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM audit WHERE seq > ? ORDER BY seq LIMIT ?")) {
            ps.setLong(1, afterSeq);
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<AuditEntry> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        }
    }

    /**
     * Which entries a list shows: every non-null field must hold.
     *
     * @param from  at or after this instant
     * @param to    before this instant
     * @param actor exactly this actor (a token label, system:rollout-engine, integration:pagerduty)
     */
    public record Query(java.time.Instant from, java.time.Instant to, String actor) {
        public static final Query ALL = new Query(null, null, null);
    }

    /** Up to {@code limit} entries matching {@code q} with seq greater than {@code afterSeq}, in chain order. */
    public List<AuditEntry> page(Query q, long afterSeq, int limit) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM audit WHERE seq > ?");
        if (q.from() != null) sql.append(" AND at >= ?");
        if (q.to() != null) sql.append(" AND at < ?");
        if (q.actor() != null) sql.append(" AND actor = ?");
        sql.append(" ORDER BY seq LIMIT ?");
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int i = 1;
            ps.setLong(i++, afterSeq);
            if (q.from() != null) Sql.setMillis(ps, i++, q.from());
            if (q.to() != null) Sql.setMillis(ps, i++, q.to());
            if (q.actor() != null) ps.setString(i++, q.actor());
            ps.setInt(i, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<AuditEntry> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        }
    }

    public long count() throws SQLException {
        return new Tx(c).count(Table.AUDIT);
    }

    private static AuditEntry row(ResultSet rs) throws SQLException {
        return new AuditEntry(rs.getLong("seq"), Sql.instant(rs, "at"), rs.getString("actor"), rs.getString("role"),
                rs.getString("action"), rs.getString("target"), rs.getString("reason"), rs.getString("detail"),
                rs.getString("prev_hash"), rs.getString("hash"));
    }
}
