package rsuota.fleet.rollout;

import com.fasterxml.jackson.core.type.TypeReference;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import rsuota.fleet.policy.PolicyJson;
import rsuota.fleet.policy.RuleSet;
import rsuota.fleet.store.Sql;
import rsuota.fleet.store.Table;
import rsuota.fleet.store.Tx;

/** Rollouts, their phases and their devices, inside the caller's transaction. */
public final class RolloutRepository {
    private static final String R_COLUMNS = "id, release, state, phase_index, settings, rules, attention, created_at, created_by, "
            + "started_at, ended_at, updated_at";
    private static final String P_COLUMNS = "rollout_id, idx, name, cohort_id, observation_ms, approval, criteria, state, started_at, "
            + "window_ends_at, gate_met_at, ended_at, approved_by";
    private static final String D_COLUMNS = "rd.rollout_id, rd.device_id, rd.phase_idx, rd.corridor, rd.release, rd.active, rd.rev, "
            + "rd.dispatched_at, rd.held, rd.device_state, rd.state_reason, rd.state_at, rd.last_report_at, rd.activated_at, "
            + "rd.rollback_kind, rd.rollback_reason, rd.rollback_rev, rd.rollback_at, rd.rollback_deadline, rd.rollback_result, "
            + "rd.overdue_at, rd.from_release, "
            + "h.state AS local_state, h.held_by AS local_by, h.since AS local_since, h.reason AS local_reason";
    /**
     * A technician's hold belongs to the unit, not to one rollout: every rollout's row shows it, even rows made after
     * it. One join (the hold's key is the unit), not a lookup per column per row: a 100,000-unit wave is read each tick.
     */
    private static final String D_FROM = " FROM rollout_devices rd LEFT JOIN technician_holds h ON h.device_id = rd.device_id ";

    private final Connection c;

    public RolloutRepository(Tx tx) {
        this.c = tx.connection();
    }

    // ---- rollouts

    public long insert(String release, RolloutSettings settings, RuleSet rules, Instant at, String by) throws SQLException {
        long id = Sql.nextId(c, Table.ROLLOUTS, "id");
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO rollouts (id, release, state, phase_index, settings, rules, "
                + "created_at, created_by, updated_at) VALUES (?, ?, ?, -1, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, id);
            ps.setString(2, release);
            ps.setString(3, RolloutState.DRAFT.wire());
            ps.setString(4, PolicyJson.write(settings));
            ps.setString(5, PolicyJson.write(rules));
            Sql.setMillis(ps, 6, at);
            ps.setString(7, by);
            Sql.setMillis(ps, 8, at);
            ps.executeUpdate();
        }
        return id;
    }

    public Optional<Rollout> find(long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + R_COLUMNS + " FROM rollouts WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rollout(rs)) : Optional.empty();
            }
        }
    }

    /** All rollouts (newest first), or those of one release. */
    public List<Rollout> list(String release) throws SQLException {
        String sql = "SELECT " + R_COLUMNS + " FROM rollouts" + (release == null ? "" : " WHERE release = ?") + " ORDER BY id DESC";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (release != null) ps.setString(1, release);
            try (ResultSet rs = ps.executeQuery()) {
                List<Rollout> out = new ArrayList<>();
                while (rs.next()) out.add(rollout(rs));
                return out;
            }
        }
    }

    /** Ids of the rollouts the engine looks after, oldest first. */
    public List<Long> activeIds() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM rollouts WHERE state IN (?, ?, ?) ORDER BY id")) {
            ps.setString(1, RolloutState.RUNNING.wire());
            ps.setString(2, RolloutState.PAUSED.wire());
            ps.setString(3, RolloutState.ROLLING_BACK.wire());
            try (ResultSet rs = ps.executeQuery()) {
                List<Long> out = new ArrayList<>();
                while (rs.next()) out.add(rs.getLong(1));
                return out;
            }
        }
    }

    public void setState(long id, RolloutState state, int phaseIndex, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE rollouts SET state = ?, phase_index = ?, updated_at = ?, "
                + "started_at = CASE WHEN started_at IS NULL AND ? = 'running' THEN ? ELSE started_at END, "
                + "ended_at = CASE WHEN ? IN ('completed', 'rolled_back') THEN ? ELSE ended_at END WHERE id = ?")) {
            ps.setString(1, state.wire());
            ps.setInt(2, phaseIndex);
            Sql.setMillis(ps, 3, at);
            ps.setString(4, state.wire());
            Sql.setMillis(ps, 5, at);
            ps.setString(6, state.wire());
            Sql.setMillis(ps, 7, at);
            ps.setLong(8, id);
            ps.executeUpdate();
        }
        if (state.ended()) {
            // Dispatched devices stay tracked after the end: a later rollback of this release still acts on them, and their
            // reports (a late activation, a rollback's confirmation) must land. A newer rollout's dispatch retires them.
            try (PreparedStatement ps = c.prepareStatement("UPDATE rollout_devices SET active = 0 WHERE rollout_id = ? AND rev IS NULL")) {
                ps.setLong(1, id);
                ps.executeUpdate();
            }
        }
    }

    /** Stores what needs a human; written only when it changed, so an idle tick writes nothing. */
    public void setAttention(Rollout r, List<String> attention) throws SQLException {
        if (r.attention().equals(attention)) return;
        try (PreparedStatement ps = c.prepareStatement("UPDATE rollouts SET attention = ? WHERE id = ?")) {
            Sql.setText(ps, 1, attention.isEmpty() ? null : PolicyJson.write(attention));
            ps.setLong(2, r.id());
            ps.executeUpdate();
        }
    }

    // ---- phases

    public void insertPhase(long rolloutId, int idx, String name, long cohortId, Duration observation, Approval approval,
                            ExitCriteria criteria) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO rollout_phases (rollout_id, idx, name, cohort_id, observation_ms, "
                + "approval, criteria, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, rolloutId);
            ps.setInt(2, idx);
            ps.setString(3, name);
            ps.setLong(4, cohortId);
            ps.setLong(5, observation.toMillis());
            ps.setString(6, approval.wire());
            ps.setString(7, PolicyJson.write(criteria));
            ps.setString(8, PhaseState.PENDING.wire());
            ps.executeUpdate();
        }
    }

    public List<Phase> phases(long rolloutId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + P_COLUMNS + " FROM rollout_phases WHERE rollout_id = ? ORDER BY idx")) {
            ps.setLong(1, rolloutId);
            try (ResultSet rs = ps.executeQuery()) {
                List<Phase> out = new ArrayList<>();
                while (rs.next()) out.add(phase(rs));
                return out;
            }
        }
    }

    /** The rollout phase that holds {@code cohortId}, if any (a cohort is in at most one). */
    public Optional<long[]> phaseOfCohort(long cohortId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT rollout_id, idx FROM rollout_phases WHERE cohort_id = ?")) {
            ps.setLong(1, cohortId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new long[] {rs.getLong(1), rs.getLong(2)}) : Optional.empty();
            }
        }
    }

    public void setPhase(Phase p, PhaseState state, Instant startedAt, Instant windowEndsAt, Instant gateMetAt, Instant endedAt,
                         String approvedBy) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE rollout_phases SET state = ?, started_at = ?, window_ends_at = ?, "
                + "gate_met_at = ?, ended_at = ?, approved_by = ? WHERE rollout_id = ? AND idx = ?")) {
            ps.setString(1, state.wire());
            Sql.setMillis(ps, 2, startedAt);
            Sql.setMillis(ps, 3, windowEndsAt);
            Sql.setMillis(ps, 4, gateMetAt);
            Sql.setMillis(ps, 5, endedAt);
            Sql.setText(ps, 6, approvedBy);
            ps.setLong(7, p.rolloutId());
            ps.setInt(8, p.idx());
            ps.executeUpdate();
        }
    }

    // ---- devices

    /**
     * A unit to queue for a phase.
     *
     * @param fromRelease the release the unit reports running now (null: none reported); dispatch replaces it
     */
    public record Queued(String deviceId, String corridor, String fromRelease) {}

    /** Queues units for a phase, as one batch; a unit already in this rollout keeps its row (primary key). */
    public void queue(long rolloutId, int phaseIdx, String release, List<Queued> units) throws SQLException {
        List<Object[]> rows = new ArrayList<>();
        for (Queued q : units) rows.add(new Object[] {rolloutId, q.deviceId(), phaseIdx, q.corridor(), release, q.fromRelease()});
        batch("INSERT INTO rollout_devices (rollout_id, device_id, phase_idx, corridor, release, active, held, from_release) "
                + "VALUES (?, ?, ?, ?, ?, 1, 0, ?) ON CONFLICT (rollout_id, device_id) DO NOTHING", rows);
    }

    /** The release each unit reported running when it was first dispatched (null: none reported), as one JDBC batch. */
    public void fromReleases(long rolloutId, Map<String, String> fromReleaseByDevice) throws SQLException {
        List<Object[]> rows = new ArrayList<>();
        fromReleaseByDevice.forEach((id, from) -> rows.add(new Object[] {from, rolloutId, id}));
        batch("UPDATE rollout_devices SET from_release = ? WHERE rollout_id = ? AND device_id = ?", rows);
    }

    /** @param fromRelease null: the units reported no release; @param units how many of the phase's units */
    public record SourceCount(int phaseIdx, String fromRelease, int units) {}

    /** The rollout's units counted per phase and per release they came from: one grouped query, whatever the fleet's size. */
    public List<SourceCount> sources(long rolloutId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT phase_idx, from_release, COUNT(*) FROM rollout_devices WHERE rollout_id = ? "
                + "GROUP BY phase_idx, from_release")) {
            ps.setLong(1, rolloutId);
            try (ResultSet rs = ps.executeQuery()) {
                List<SourceCount> out = new ArrayList<>();
                while (rs.next()) out.add(new SourceCount(rs.getInt(1), rs.getString(2), rs.getInt(3)));
                return out;
            }
        }
    }

    public List<DeviceProgress> devices(long rolloutId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + D_COLUMNS + D_FROM + "WHERE rd.rollout_id = ? ORDER BY rd.phase_idx, rd.device_id")) {
            ps.setLong(1, rolloutId);
            return deviceRows(ps);
        }
    }

    /** Rows of active rollouts that concern {@code deviceId} (usually none or one). */
    public List<DeviceProgress> activeFor(String deviceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + D_COLUMNS + D_FROM + "WHERE rd.device_id = ? AND rd.active = 1")) {
            ps.setString(1, deviceId);
            return deviceRows(ps);
        }
    }

    /**
     * As {@link #activeFor}, row-locked until the transaction ends (PostgreSQL only: SQLite has no FOR UPDATE and
     * needs none, its writers are serialised), for ingest running beside other ingest ({@code WriteOrder.beside()}).
     */
    public List<DeviceProgress> activeForUpdate(String deviceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + D_COLUMNS + D_FROM + "WHERE rd.device_id = ? AND rd.active = 1 FOR UPDATE OF rd")) {
            ps.setString(1, deviceId);
            return deviceRows(ps);
        }
    }

    /** A unit of this rollout's cohorts that an other active rollout already holds. */
    public record Conflict(String deviceId, long otherRollout) {}

    /**
     * The first unit (by phase, then id) of {@code rolloutId}'s cohorts that an other active rollout holds, or empty:
     * one query for the whole rollout, whatever its size (a 100,000-unit wave had taken one query per unit).
     */
    public Optional<Conflict> firstConflict(long rolloutId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT mm.device_id, p.rollout_id FROM rollout_phases mine
                  JOIN cohort_members mm ON mm.cohort_id = mine.cohort_id
                  JOIN cohort_members m ON m.device_id = mm.device_id
                  JOIN rollout_phases p ON p.cohort_id = m.cohort_id
                  JOIN rollouts r ON r.id = p.rollout_id
                WHERE mine.rollout_id = ? AND p.rollout_id <> ? AND r.state IN ('running', 'paused', 'rolling_back')
                ORDER BY mine.idx, mm.device_id, p.rollout_id LIMIT 1""")) {
            ps.setLong(1, rolloutId);
            ps.setLong(2, rolloutId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Conflict(rs.getString(1), rs.getLong(2))) : Optional.empty();
            }
        }
    }

    /** Devices in trial per corridor across all active rollouts: dispatched and not settled. */
    public Map<String, Integer> inTrialByCorridor() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT d.corridor, COUNT(*) FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout_id
                WHERE d.active = 1 AND r.state IN ('running', 'paused', 'rolling_back') AND d.rev IS NOT NULL AND d.held = 0
                  AND d.corridor IS NOT NULL AND d.activated_at IS NULL AND d.rollback_kind IS NULL
                  AND (d.device_state IS NULL OR d.device_state NOT IN ('failed', 'needs_investigation'))
                GROUP BY d.corridor""");
             ResultSet rs = ps.executeQuery()) {
            Map<String, Integer> out = new HashMap<>();
            while (rs.next()) out.put(rs.getString(1), rs.getInt(2));
            return out;
        }
    }

    /** Records each unit's order (its desired rev) as sent, as one batch. */
    public void dispatched(long rolloutId, Map<String, Long> revByDevice, Instant at) throws SQLException {
        List<Object[]> rows = new ArrayList<>();
        revByDevice.forEach((id, rev) -> rows.add(new Object[] {rev, at, rolloutId, id}));
        batch("UPDATE rollout_devices SET rev = ?, dispatched_at = COALESCE(dispatched_at, ?), held = 0 WHERE rollout_id = ? AND device_id = ?", rows);
    }

    /**
     * Ends the tracking of {@code deviceId} by ended rollouts other than {@code rolloutId}: a newer
     * rollout now gives the device its desired state, so the old release's rollout no longer acts on it.
     */
    public void retireFromEnded(java.util.Collection<String> deviceIds, long rolloutId) throws SQLException {
        List<Object[]> rows = new ArrayList<>();
        for (String id : deviceIds) rows.add(new Object[] {id, rolloutId});
        batch("UPDATE rollout_devices SET active = 0 WHERE device_id = ? AND rollout_id <> ? AND active = 1 "
                + "AND rollout_id IN (SELECT id FROM rollouts WHERE state IN ('completed', 'rolled_back'))", rows);
    }

    /** Flags (or clears) a unit's rollback result: "healthy" or "needs_investigation". */
    public void rollbackResult(long rolloutId, String deviceId, String result) throws SQLException {
        update("UPDATE rollout_devices SET rollback_result = ? WHERE rollout_id = ? AND device_id = ?", result, rolloutId, deviceId);
    }

    /** Active rows flagged needs_investigation (by a missed deadline or by the unit itself), across all rollouts. */
    public List<DeviceProgress> flagged() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + D_COLUMNS + D_FROM + "WHERE rd.active = 1 AND "
                + "(rd.rollback_result = 'needs_investigation' OR rd.device_state = 'needs_investigation') ORDER BY rd.rollout_id, rd.device_id")) {
            return deviceRows(ps);
        }
    }

    public void held(long rolloutId, java.util.Collection<String> deviceIds, boolean held) throws SQLException {
        List<Object[]> rows = new ArrayList<>();
        for (String id : deviceIds) rows.add(new Object[] {held ? 1 : 0, rolloutId, id});
        batch("UPDATE rollout_devices SET held = ? WHERE rollout_id = ? AND device_id = ?", rows);
    }

    public void failedLocally(long rolloutId, String deviceId, String reason, Instant at) throws SQLException {
        update("UPDATE rollout_devices SET device_state = 'failed', state_reason = ?, state_at = ? WHERE rollout_id = ? AND device_id = ?",
                reason, at, rolloutId, deviceId);
    }

    /** A rollback order sent to a unit: its rev, and its result so far (null, or "healthy" for a box already back). */
    public record RollbackOrder(String deviceId, long rev, String result) {}

    /** Records each of {@code orders}, as one batch. */
    public void rollbackOrdered(long rolloutId, List<RollbackOrder> orders, Instant at, Instant deadline) throws SQLException {
        List<Object[]> rows = new ArrayList<>();
        for (RollbackOrder o : orders) rows.add(new Object[] {o.rev(), at, deadline, o.result(), rolloutId, o.deviceId()});
        batch("UPDATE rollout_devices SET rollback_rev = ?, rollback_at = ?, rollback_deadline = ?, "
                + "rollback_kind = COALESCE(rollback_kind, 'commanded'), rollback_result = ?, held = 0 WHERE rollout_id = ? AND device_id = ?", rows);
    }

    public void dropQueued(long rolloutId, int phaseIdx) throws SQLException {
        update("UPDATE rollout_devices SET active = 0 WHERE rollout_id = ? AND phase_idx = ? AND rev IS NULL", rolloutId, phaseIdx);
    }

    public void overdue(long rolloutId, String deviceId, Instant at) throws SQLException {
        update("UPDATE rollout_devices SET overdue_at = ? WHERE rollout_id = ? AND device_id = ?", at, rolloutId, deviceId);
    }

    /** Writes what a device reported (see {@code RolloutProgress}). */
    /** A technician's hold on the unit, or null. */
    public DeviceProgress.Local hold(String deviceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT state, held_by, since, reason FROM technician_holds WHERE device_id = ?")) {
            ps.setString(1, deviceId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new DeviceProgress.Local(rs.getString("state"), rs.getString("held_by"), Sql.instant(rs, "since"),
                        rs.getString("reason")) : null;
            }
        }
    }

    /** Sets (or with null ends) a technician's hold on the unit. */
    public void hold(String deviceId, DeviceProgress.Local l) throws SQLException {
        update("DELETE FROM technician_holds WHERE device_id = ?", deviceId);
        if (l != null) {
            update("INSERT INTO technician_holds (device_id, state, held_by, since, reason) VALUES (?, ?, ?, ?, ?)", deviceId, l.state(), l.by(),
                    l.since(), l.reason());
        }
    }

    public void report(DeviceProgress d) throws SQLException {
        update("UPDATE rollout_devices SET device_state = ?, state_reason = ?, state_at = ?, last_report_at = ?, activated_at = ?, "
                        + "rollback_kind = ?, rollback_reason = ?, rollback_result = ? WHERE rollout_id = ? AND device_id = ?",
                d.deviceState(), d.stateReason(), d.stateAt(), d.lastReportAt(), d.activatedAt(), d.rollbackKind(), d.rollbackReason(),
                d.rollbackResult(), d.rolloutId(), d.deviceId());
    }

    private void update(String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            ps.executeUpdate();
        }
    }

    /** The same statement once per row, sent as one JDBC batch (one round trip on PostgreSQL, not one per unit). */
    private void batch(String sql, List<Object[]> rows) throws SQLException {
        if (rows.isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (Object[] args : rows) {
                bind(ps, args);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            // Untyped NULL: PostgreSQL takes the column's type (a VARCHAR null into a BIGINT column is refused there).
            if (a == null) ps.setNull(i + 1, java.sql.Types.NULL);
            else if (a instanceof Instant t) ps.setLong(i + 1, t.toEpochMilli());
            else if (a instanceof Long l) ps.setLong(i + 1, l);
            else if (a instanceof Integer n) ps.setInt(i + 1, n);
            else ps.setString(i + 1, a.toString());
        }
    }

    private List<DeviceProgress> deviceRows(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            List<DeviceProgress> out = new ArrayList<>();
            while (rs.next()) out.add(deviceRow(rs));
            return out;
        }
    }

    /** A row of {@link #D_COLUMNS}, read by position (the engine reads a whole wave's rows every tick). */
    private static DeviceProgress deviceRow(ResultSet rs) throws SQLException {
        String localState = rs.getString(23);
        return new DeviceProgress(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getString(4), rs.getString(5), rs.getInt(6) == 1,
                Sql.longOrNull(rs, 7), Sql.instant(rs, 8), rs.getInt(9) == 1, rs.getString(10), rs.getString(11), Sql.instant(rs, 12),
                Sql.instant(rs, 13), Sql.instant(rs, 14), rs.getString(15), rs.getString(16), Sql.longOrNull(rs, 17), Sql.instant(rs, 18),
                Sql.instant(rs, 19), rs.getString(20), Sql.instant(rs, 21),
                localState == null ? null : new DeviceProgress.Local(localState, rs.getString(24), Sql.instant(rs, 25), rs.getString(26)),
                rs.getString(22));
    }

    /**
     * {@code devices} (this rollout's rows, as {@link #devices} read them) with the rows of {@code changed} read again:
     * after a dispatch batch the engine re-reads the units it ordered, not the whole wave.
     */
    public List<DeviceProgress> refreshed(long rolloutId, List<DeviceProgress> devices, java.util.Collection<String> changed) throws SQLException {
        Map<String, DeviceProgress> fresh = new HashMap<>();
        Sql.eachIn(c, "SELECT " + D_COLUMNS + D_FROM + "WHERE rd.rollout_id = " + rolloutId + " AND rd.device_id IN (%s)", changed,
                rs -> fresh.put(rs.getString(2), deviceRow(rs)));
        List<DeviceProgress> out = new ArrayList<>(devices.size());
        for (DeviceProgress d : devices) out.add(fresh.getOrDefault(d.deviceId(), d));
        return out;
    }

    private static Rollout rollout(ResultSet rs) throws SQLException {
        String att = rs.getString("attention");
        List<String> attention;
        try {
            attention = att == null ? List.of() : PolicyJson.MAPPER.readValue(att, new TypeReference<List<String>>() {});
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new SQLException("column rollouts.attention does not hold a JSON list: " + e.getOriginalMessage(), e);
        }
        return new Rollout(rs.getLong("id"), rs.getString("release"),
                RolloutState.valueOf(rs.getString("state").toUpperCase(Locale.ROOT)), rs.getInt("phase_index"),
                PolicyJson.read(rs.getString("settings"), RolloutSettings.class, "rollouts.settings"),
                PolicyJson.read(rs.getString("rules"), RuleSet.class, "rollouts.rules"), attention,
                Sql.instant(rs, "created_at"), rs.getString("created_by"), Sql.instant(rs, "started_at"), Sql.instant(rs, "ended_at"),
                Sql.instant(rs, "updated_at"));
    }

    private static Phase phase(ResultSet rs) throws SQLException {
        return new Phase(rs.getLong("rollout_id"), rs.getInt("idx"), rs.getString("name"), rs.getLong("cohort_id"),
                Duration.ofMillis(rs.getLong("observation_ms")), Approval.valueOf(rs.getString("approval").toUpperCase(Locale.ROOT)),
                PolicyJson.read(rs.getString("criteria"), ExitCriteria.class, "rollout_phases.criteria"),
                PhaseState.valueOf(rs.getString("state").toUpperCase(Locale.ROOT)), Sql.instant(rs, "started_at"),
                Sql.instant(rs, "window_ends_at"), Sql.instant(rs, "gate_met_at"), Sql.instant(rs, "ended_at"), rs.getString("approved_by"));
    }
}
