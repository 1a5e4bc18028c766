package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The desired state of each device, with a rev that only grows (a device ignores an older or
 * repeated rev). A row with published_rev below rev has not been confirmed by the broker yet.
 */
public final class DesiredStateRepository {
    /** A stored desired state; {@code payload} is the exact JSON that is (or will be) published. */
    public record Desired(String deviceId, long rev, String payload, Long rolloutId, Instant writtenAt, long publishedRev) {
        public boolean pending() {
            return publishedRev < rev;
        }
    }

    private final Connection c;

    DesiredStateRepository(Connection c) {
        this.c = c;
    }

    public Optional<Desired> find(String deviceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT device_id, rev, payload, rollout_id, written_at, published_rev FROM desired_states WHERE device_id = ?")) {
            ps.setString(1, deviceId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    /** The rev the next desired state of each of {@code ids} must carry (1 for a unit never ordered): one query per 500 units. */
    public java.util.Map<String, Long> nextRevs(java.util.Collection<String> ids) throws SQLException {
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        for (String id : ids) out.put(id, 1L);
        Sql.eachIn(c, "SELECT device_id, rev FROM desired_states WHERE device_id IN (%s)", ids, rs -> out.put(rs.getString(1), rs.getLong(2) + 1));
        return out;
    }

    /** A desired state to store: {@code rev} from {@link #nextRevs} of the same transaction. */
    public record NewDesired(String deviceId, long rev, String payload, Long rolloutId) {}

    /**
     * Stores each of {@code rows} (a rev only ever grows: a row whose rev is not above the stored one fails the whole
     * transaction), sent as one batch: a wave's orders cost no round trip per unit.
     */
    public void writeAll(List<NewDesired> rows, Instant at) throws SQLException {
        if (rows.isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
            for (NewDesired d : rows) {
                ps.setString(1, d.deviceId());
                ps.setLong(2, d.rev());
                ps.setString(3, d.payload());
                Sql.setLong(ps, 4, d.rolloutId());
                Sql.setMillis(ps, 5, at);
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            for (int i = 0; i < counts.length; i++) {
                // SUCCESS_NO_INFO (-2) is not an answer either engine gives for these statements; anything but 1 is a lost race
                if (counts[i] != 1) throw new SQLException("desired rev " + rows.get(i).rev() + " of " + rows.get(i).deviceId() + " is not above the stored one");
            }
        }
    }

    private static final String UPSERT = """
            INSERT INTO desired_states (device_id, rev, payload, rollout_id, written_at, published_rev) VALUES (?, ?, ?, ?, ?, 0)
            ON CONFLICT (device_id) DO UPDATE SET rev = excluded.rev, payload = excluded.payload,
              rollout_id = excluded.rollout_id, written_at = excluded.written_at
            WHERE excluded.rev > desired_states.rev""";

    /** Up to {@code limit} rows not yet confirmed, oldest first. */
    public List<Desired> pending(int limit) throws SQLException {
        return query("SELECT device_id, rev, payload, rollout_id, written_at, published_rev FROM desired_states "
                + "WHERE published_rev < rev ORDER BY written_at, device_id LIMIT ?", null, limit);
    }

    /** Every row after {@code afterDevice} in id order (a re-publish after a broker lost its retained messages). */
    public List<Desired> page(String afterDevice, int limit) throws SQLException {
        return query("SELECT device_id, rev, payload, rollout_id, written_at, published_rev FROM desired_states "
                + "WHERE device_id > ? ORDER BY device_id LIMIT ?", afterDevice, limit);
    }

    /** Records that the broker confirmed each row's rev, as one batch; an older confirmation never lowers it. */
    public void published(List<Desired> confirmed) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE desired_states SET published_rev = ? WHERE device_id = ? AND published_rev < ?")) {
            for (Desired d : confirmed) {
                ps.setLong(1, d.rev());
                ps.setString(2, d.deviceId());
                ps.setLong(3, d.rev());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private List<Desired> query(String sql, String after, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            if (after != null) ps.setString(i++, after);
            ps.setInt(i, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<Desired> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        }
    }

    private static Desired row(ResultSet rs) throws SQLException {
        return new Desired(rs.getString("device_id"), rs.getLong("rev"), rs.getString("payload"), Sql.longOrNull(rs, "rollout_id"),
                Sql.instant(rs, "written_at"), rs.getLong("published_rev"));
    }
}
