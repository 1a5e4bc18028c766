package rsuota.fleet.lead;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.store.WriteOrder;

/**
 * The leader lease row (table {@code leader_lease}, one row named {@value #NAME}): who leads, until when,
 * and the fencing token, which grows by one with every change of holder. The first token on a store is the
 * wall-clock time in milliseconds, so a store created later (a migration, a rebuilt database) starts above every
 * token devices accepted from an earlier one and they do not refuse its orders. Every call runs inside a write
 * transaction, and writes are serialised store-wide (one writer on SQLite, an advisory lock on PostgreSQL),
 * so reading the row and deciding on it is atomic.
 */
public final class LeaderLease {
    public static final String NAME = "engine";

    /** The lease as stored. */
    public record Lease(String holder, long token, Instant acquiredAt, Instant renewedAt, Instant expiresAt) {
        public boolean heldBy(String who, long fence) {
            return holder.equals(who) && token == fence;
        }
    }

    private LeaderLease() {}

    public static Optional<Lease> current(Connection c) throws SQLException {
        return read(c, "");
    }

    private static Optional<Lease> read(Connection c, String lock) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT holder, token, acquired_at, renewed_at, expires_at FROM leader_lease WHERE name = ?"
                + lock)) {
            ps.setString(1, NAME);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                return Optional.of(new Lease(rs.getString(1), rs.getLong(2), Instant.ofEpochMilli(rs.getLong(3)),
                        Instant.ofEpochMilli(rs.getLong(4)), Instant.ofEpochMilli(rs.getLong(5))));
            }
        }
    }

    /**
     * Takes the lease when nobody holds it or it expired (the token grows by one), renews it when
     * {@code holder} holds it (same token), and otherwise leaves it. Returns the lease as it now stands.
     */
    public static Lease acquireOrRenew(Connection c, String holder, Instant now, Duration ttl) throws SQLException {
        // Outside the store-wide write order (Database.ownRows) the row is locked before it is read and changed; two
        // replicas inserting the first lease at once: one fails on the key and tries again at its next round.
        Optional<Lease> cur = read(c, WriteOrder.beside() ? " FOR UPDATE" : "");
        Instant until = now.plus(ttl);
        if (cur.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO leader_lease (name, holder, token, acquired_at, renewed_at, expires_at) "
                    + "VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, NAME);
                ps.setString(2, holder);
                ps.setLong(3, firstToken(now));
                ps.setLong(4, now.toEpochMilli());
                ps.setLong(5, now.toEpochMilli());
                ps.setLong(6, until.toEpochMilli());
                ps.executeUpdate();
            }
            return new Lease(holder, firstToken(now), now, now, until);
        }
        Lease l = cur.get();
        if (l.holder().equals(holder)) {
            update(c, "UPDATE leader_lease SET renewed_at = ?, expires_at = ? WHERE name = ?", now.toEpochMilli(), until.toEpochMilli());
            return new Lease(holder, l.token(), l.acquiredAt(), now, until);
        }
        if (!l.expiresAt().isAfter(now)) {
            long token = l.token() + 1;
            try (PreparedStatement ps = c.prepareStatement("UPDATE leader_lease SET holder = ?, token = ?, acquired_at = ?, renewed_at = ?, "
                    + "expires_at = ? WHERE name = ?")) {
                ps.setString(1, holder);
                ps.setLong(2, token);
                ps.setLong(3, now.toEpochMilli());
                ps.setLong(4, now.toEpochMilli());
                ps.setLong(5, until.toEpochMilli());
                ps.setString(6, NAME);
                ps.executeUpdate();
            }
            return new Lease(holder, token, now, now, until);
        }
        return l;
    }

    /** The first fencing token on a store: its creation time in milliseconds (at least 1). */
    static long firstToken(Instant now) {
        return Math.max(1, now.toEpochMilli());
    }

    /** Gives the lease up at once (a clean shutdown): the next replica takes over without waiting for it to expire. */
    public static void release(Connection c, String holder, long token, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE leader_lease SET expires_at = ? WHERE name = ? AND holder = ? AND token = ?")) {
            ps.setLong(1, now.toEpochMilli());
            ps.setString(2, NAME);
            ps.setString(3, holder);
            ps.setLong(4, token);
            ps.executeUpdate();
        }
    }

    /**
     * The fence: refuses the transaction unless {@code holder} still holds the lease with {@code token} and it
     * has not expired. A deposed leader's late write (after a pause, a partition, a stale lease) fails here,
     * inside the very transaction it would have committed.
     */
    public static void check(Connection c, String holder, long token, Instant now) throws SQLException, FleetException {
        Lease l = current(c).orElse(null);
        if (l == null || !l.heldBy(holder, token) || !l.expiresAt().isAfter(now)) {
            throw new FleetException(ErrorCode.NOT_LEADER, "refused a leader's write from " + holder + " with fencing token " + token
                    + ": the lease is " + (l == null ? "not held" : "held by " + l.holder() + " with token " + l.token()
                    + (l.expiresAt().isAfter(now) ? "" : ", expired at " + l.expiresAt())) + "; this replica is not the leader",
                    Map.of("token", token, "currentToken", l == null ? 0 : l.token()));
        }
    }

    private static void update(Connection c, String sql, long a, long b) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, a);
            ps.setLong(2, b);
            ps.setString(3, NAME);
            ps.executeUpdate();
        }
    }
}
