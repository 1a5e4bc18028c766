package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import rsuota.fleet.domain.Cohort;
import rsuota.fleet.domain.CohortFilter;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.CohortMember;

/**
 * Cohorts and their members. The store enforces "one cohort per device per release" with the
 * UNIQUE (release, device_id) constraint of cohort_members; {@link #cohortOf} lets callers name
 * the conflicting cohort before they insert.
 */
public final class CohortRepository {
    private static final String SELECT = """
            SELECT c.id, c.release, c.name, c.kind, c.filter, c.size_cap, c.created_at, c.created_by,
                   (SELECT COUNT(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS member_count
            FROM cohorts c""";

    private final Connection c;

    CohortRepository(Connection c) {
        this.c = c;
    }

    /** Inserts a cohort and returns it with its new id and no members. */
    public Cohort insert(String release, String name, CohortKind kind, CohortFilter filter, Integer sizeCap,
                         Instant at, String by) throws SQLException {
        long id = Sql.nextId(c, Table.COHORTS, "id");
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO cohorts (id, release, name, kind, filter, size_cap, created_at, created_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)""")) {
            ps.setLong(1, id);
            ps.setString(2, release);
            ps.setString(3, name);
            ps.setString(4, kind.wire());
            Sql.setText(ps, 5, ColumnJson.filter(filter));
            Sql.setInt(ps, 6, sizeCap);
            Sql.setMillis(ps, 7, at);
            ps.setString(8, by);
            ps.executeUpdate();
        }
        return new Cohort(id, release, name, kind, filter, sizeCap, 0, at, by);
    }

    public Optional<Cohort> find(long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE c.id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    public Optional<Cohort> findByName(String release, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE c.release = ? AND c.name = ?")) {
            ps.setString(1, release);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    /** Cohorts of one release (or all when {@code release} is null), by id. */
    public List<Cohort> list(String release) throws SQLException {
        String sql = SELECT + (release == null ? "" : " WHERE c.release = ?") + " ORDER BY c.id";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (release != null) ps.setString(1, release);
            try (ResultSet rs = ps.executeQuery()) {
                List<Cohort> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        }
    }

    public List<CohortMember> members(long cohortId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT cohort_id, device_id, release, added_at FROM cohort_members WHERE cohort_id = ? ORDER BY device_id")) {
            ps.setLong(1, cohortId);
            try (ResultSet rs = ps.executeQuery()) {
                List<CohortMember> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new CohortMember(rs.getLong(1), rs.getString(2), rs.getString(3), Sql.instant(rs, "added_at")));
                }
                return out;
            }
        }
    }

    /** Adds members, as one batch. A device already in a cohort of the same release fails the batch (unique key). */
    public void addMembers(long cohortId, String release, List<String> deviceIds, Instant at) throws SQLException {
        if (deviceIds.isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO cohort_members (cohort_id, device_id, release, added_at) VALUES (?, ?, ?, ?)")) {
            for (String deviceId : deviceIds) {
                ps.setLong(1, cohortId);
                ps.setString(2, deviceId);
                ps.setString(3, release);
                Sql.setMillis(ps, 4, at);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** The cohort of {@code release} that holds {@code deviceId}, if any. */
    public Optional<Cohort> cohortOf(String release, String deviceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                SELECT + " WHERE c.id = (SELECT m.cohort_id FROM cohort_members m WHERE m.release = ? AND m.device_id = ?)")) {
            ps.setString(1, release);
            ps.setString(2, deviceId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    /** Device id to cohort for every member of every cohort of {@code release}. */
    public Map<String, Cohort> assignments(String release) throws SQLException {
        Map<Long, Cohort> cohorts = new HashMap<>();
        for (Cohort k : list(release)) cohorts.put(k.id(), k);
        Map<String, Cohort> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT device_id, cohort_id FROM cohort_members WHERE release = ?")) {
            ps.setString(1, release);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), cohorts.get(rs.getLong(2)));
            }
        }
        return out;
    }

    private static Cohort row(ResultSet rs) throws SQLException {
        CohortKind kind = CohortKind.valueOf(rs.getString("kind").toUpperCase(java.util.Locale.ROOT));
        return new Cohort(rs.getLong("id"), rs.getString("release"), rs.getString("name"), kind,
                ColumnJson.filter(rs.getString("filter")), Sql.integer(rs, "size_cap"), rs.getInt("member_count"),
                Sql.instant(rs, "created_at"), rs.getString("created_by"));
    }
}
