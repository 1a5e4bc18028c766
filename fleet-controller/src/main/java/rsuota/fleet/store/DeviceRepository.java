package rsuota.fleet.store;

import rsuota.wire.DeploymentState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import rsuota.fleet.domain.Device;
import rsuota.fleet.domain.DeviceRecord;

/** Devices: identity, placement, last contact and last reported state. */
public final class DeviceRepository {
    private static final String COLUMNS = "id, variant, region, corridor, site, tags, last_seen, reported_state, created_at, updated_at";

    private final Connection c;

    DeviceRepository(Connection c) {
        this.c = c;
    }

    public Optional<Device> find(String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM devices WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    /** Each of {@code ids} that is registered, by id: one query per 500 ids (a phase's cohort being queued). */
    public java.util.Map<String, Device> findAll(java.util.Collection<String> ids) throws SQLException {
        java.util.Map<String, Device> out = new java.util.HashMap<>();
        Sql.eachIn(c, "SELECT " + COLUMNS + " FROM devices WHERE id IN (%s)", ids, rs -> out.put(rs.getString("id"), row(rs)));
        return out;
    }

    /** The last state snapshot (JSON) of each of {@code ids} that has one: one query per 500 ids (dispatch batches). */
    public java.util.Map<String, String> reportedStates(java.util.Collection<String> ids) throws SQLException {
        java.util.Map<String, String> out = new java.util.HashMap<>();
        Sql.eachIn(c, "SELECT id, reported_state FROM devices WHERE id IN (%s)", ids, rs -> {
            if (rs.getString(2) != null) out.put(rs.getString(1), rs.getString(2));
        });
        return out;
    }

    /** All devices in id order. */
    public List<Device> list() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM devices ORDER BY id");
             ResultSet rs = ps.executeQuery()) {
            List<Device> out = new ArrayList<>();
            while (rs.next()) out.add(row(rs));
            return out;
        }
    }

    /**
     * What the rollouts currently say of each unit that needs a human or waits for a rollback:
     * {@code needs_investigation:rollout/N} (missed its rollback deadline, or reported so, and not
     * cleared) and {@code rollback_pending:rollout/N} (ordered back, no healthy boot confirmed yet).
     */
    public Map<String, List<String>> rolloutFlags() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT device_id, rollout_id, rollback_rev, rollback_result, device_state FROM rollout_devices
                WHERE active = 1 AND (rollback_result = 'needs_investigation'
                   OR (device_state = 'needs_investigation' AND (rollback_result IS NULL OR rollback_result <> 'cleared'))
                   OR (rollback_rev IS NOT NULL AND rollback_result IS NULL))
                ORDER BY device_id, rollout_id""");
             ResultSet rs = ps.executeQuery()) {
            Map<String, List<String>> out = new TreeMap<>();
            while (rs.next()) {
                String result = rs.getString("rollback_result");
                boolean flagged = "needs_investigation".equals(result) || DeploymentState.NEEDS_INVESTIGATION.is(rs.getString("device_state"));
                out.computeIfAbsent(rs.getString("device_id"), k -> new ArrayList<>())
                        .add((flagged ? "needs_investigation" : "rollback_pending") + ":rollout/" + rs.getLong("rollout_id"));
            }
            return out;
        }
    }

    /**
     * Which devices a list shows: every non-null field must hold (null: no condition).
     *
     * @param cohortId members of this cohort
     */
    public record Query(Long cohortId, String variant, String region, String corridor) {
        public static final Query ALL = new Query(null, null, null, null);
    }

    /** Up to {@code limit} devices matching {@code q} with an id after {@code afterId} (null: from the start), in id order. */
    public List<Device> page(Query q, String afterId, int limit) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM devices WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (afterId != null) {
            sql.append(" AND id > ?");
            args.add(afterId);
        }
        if (q.cohortId() != null) {
            sql.append(" AND id IN (SELECT device_id FROM cohort_members WHERE cohort_id = ?)");
            args.add(q.cohortId());
        }
        if (q.variant() != null) {
            sql.append(" AND variant = ?");
            args.add(q.variant());
        }
        if (q.region() != null) {
            sql.append(" AND region = ?");
            args.add(q.region());
        }
        if (q.corridor() != null) {
            sql.append(" AND corridor = ?");
            args.add(q.corridor());
        }
        sql.append(" ORDER BY id LIMIT ?");
        args.add(limit);
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
            try (ResultSet rs = ps.executeQuery()) {
                List<Device> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        }
    }

    /**
     * Inserts or updates identity and placement; {@code seen} (may be null for an inventory import)
     * moves last_seen forward only, so a late, out-of-order report never makes a device look older.
     */
    public void upsert(DeviceRecord d, Instant seen, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO devices (id, variant, region, corridor, site, tags, last_seen, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                  variant = excluded.variant, region = excluded.region, corridor = excluded.corridor,
                  site = excluded.site, tags = excluded.tags, updated_at = excluded.updated_at,
                  last_seen = CASE WHEN devices.last_seen IS NULL OR (excluded.last_seen IS NOT NULL AND excluded.last_seen > devices.last_seen)
                                   THEN COALESCE(excluded.last_seen, devices.last_seen) ELSE devices.last_seen END""")) {
            ps.setString(1, d.id());
            ps.setString(2, d.variant());
            Sql.setText(ps, 3, d.region());
            Sql.setText(ps, 4, d.corridor());
            Sql.setText(ps, 5, d.site());
            ps.setString(6, ColumnJson.strings(d.tags()));
            Sql.setMillis(ps, 7, seen);
            Sql.setMillis(ps, 8, now);
            Sql.setMillis(ps, 9, now);
            ps.executeUpdate();
        }
    }

    /** Stores a device's latest state snapshot (JSON text); false when the device is unknown. */
    public boolean updateReportedState(String id, String stateJson, Instant seen) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE devices SET reported_state = ?, updated_at = ?,
                  last_seen = CASE WHEN last_seen IS NULL OR last_seen < ? THEN ? ELSE last_seen END
                WHERE id = ?""")) {
            ps.setString(1, stateJson);
            Sql.setMillis(ps, 2, seen);
            Sql.setMillis(ps, 3, seen);
            Sql.setMillis(ps, 4, seen);
            ps.setString(5, id);
            return ps.executeUpdate() == 1;
        }
    }

    public long count() throws SQLException {
        return new Tx(c).count(Table.DEVICES);
    }

    /** Device count per variant, sorted by variant. */
    public Map<String, Long> countByVariant() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT variant, COUNT(*) FROM devices GROUP BY variant");
             ResultSet rs = ps.executeQuery()) {
            Map<String, Long> out = new TreeMap<>();
            while (rs.next()) out.put(rs.getString(1), rs.getLong(2));
            return out;
        }
    }

    private static Device row(ResultSet rs) throws SQLException {
        DeviceRecord r = new DeviceRecord(rs.getString("id"), rs.getString("variant"), rs.getString("region"),
                rs.getString("corridor"), rs.getString("site"), ColumnJson.strings(rs.getString("tags"), "devices.tags"));
        return new Device(r, Sql.instant(rs, "last_seen"), rs.getString("reported_state"),
                Sql.instant(rs, "created_at"), Sql.instant(rs, "updated_at"));
    }
}
