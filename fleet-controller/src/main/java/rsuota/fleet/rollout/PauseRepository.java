package rsuota.fleet.rollout;

import com.fasterxml.jackson.core.type.TypeReference;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import rsuota.fleet.policy.Finding;
import rsuota.fleet.policy.PauseEvent;
import rsuota.fleet.policy.PolicyJson;
import rsuota.fleet.policy.SustainedTimer;
import rsuota.fleet.store.Sql;
import rsuota.fleet.store.Table;
import rsuota.fleet.store.Tx;

/** Pause events and the persisted "breach since" of every rule timer. */
public final class PauseRepository {
    private static final String COLUMNS = "id, rollout_id, at, cause, rule, rule_version, cohort_id, findings, actor, reason, "
            + "resumed_at, resumed_by, resume_reason";

    /** The findings column: evidence plus links, kept together so an event reads whole. */
    record Stored(List<Finding> findings, Map<String, String> links, Map<String, Map<String, String>> deviceLinks) {}

    private final Connection c;

    public PauseRepository(Tx tx) {
        this.c = tx.connection();
    }

    public PauseEvent insert(PauseEvent e) throws SQLException {
        long id = Sql.nextId(c, Table.PAUSE_EVENTS, "id");
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO pause_events (id, rollout_id, at, cause, rule, rule_version, cohort_id, "
                + "findings, actor, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, id);
            ps.setLong(2, e.rolloutId());
            Sql.setMillis(ps, 3, e.at());
            ps.setString(4, e.cause().name().toLowerCase(Locale.ROOT));
            Sql.setText(ps, 5, e.rule());
            Sql.setInt(ps, 6, e.ruleVersion());
            Sql.setLong(ps, 7, e.cohortId());
            ps.setString(8, PolicyJson.write(new Stored(e.findings(), e.links(), e.deviceLinks())));
            ps.setString(9, e.actor());
            Sql.setText(ps, 10, e.reason());
            ps.executeUpdate();
        }
        return new PauseEvent(id, e.rolloutId(), e.at(), e.cause(), e.rule(), e.ruleVersion(), e.cohortId(), e.findings(), e.links(),
                e.deviceLinks(), e.actor(), e.reason(), null, null, null);
    }

    public List<PauseEvent> list(long rolloutId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM pause_events WHERE rollout_id = ? ORDER BY id")) {
            ps.setLong(1, rolloutId);
            try (ResultSet rs = ps.executeQuery()) {
                List<PauseEvent> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        }
    }

    public void resume(long rolloutId, Instant at, String by, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE pause_events SET resumed_at = ?, resumed_by = ?, resume_reason = ? "
                + "WHERE rollout_id = ? AND resumed_at IS NULL")) {
            Sql.setMillis(ps, 1, at);
            ps.setString(2, by);
            ps.setString(3, reason);
            ps.setLong(4, rolloutId);
            ps.executeUpdate();
        }
    }

    public long count() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM pause_events"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // ---- rule timers

    public Map<String, SustainedTimer> timers(long rolloutId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT rule_key, breach_since, verdict FROM rule_timers WHERE rollout_id = ?")) {
            ps.setLong(1, rolloutId);
            try (ResultSet rs = ps.executeQuery()) {
                Map<String, SustainedTimer> out = new HashMap<>();
                while (rs.next()) out.put(rs.getString(1), new SustainedTimer(Sql.instant(rs, "breach_since"), rs.getString(3)));
                return out;
            }
        }
    }

    public void saveTimer(long rolloutId, String key, SustainedTimer t, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO rule_timers (rollout_id, rule_key, breach_since, verdict, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (rollout_id, rule_key) DO UPDATE SET breach_since = excluded.breach_since, verdict = excluded.verdict,
                  updated_at = excluded.updated_at""")) {
            ps.setLong(1, rolloutId);
            ps.setString(2, key);
            Sql.setMillis(ps, 3, t.breachSince());
            ps.setString(4, t.last());
            Sql.setMillis(ps, 5, at);
            ps.executeUpdate();
        }
    }

    /** Forgets every timer of a rollout: after a resume a breach must be sustained afresh. */
    public void resetTimers(long rolloutId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM rule_timers WHERE rollout_id = ?")) {
            ps.setLong(1, rolloutId);
            ps.executeUpdate();
        }
    }

    private static PauseEvent row(ResultSet rs) throws SQLException {
        Stored s;
        try {
            s = PolicyJson.MAPPER.readValue(rs.getString("findings"), new TypeReference<Stored>() {});
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new SQLException("column pause_events.findings is not readable: " + e.getOriginalMessage(), e);
        }
        return new PauseEvent(rs.getLong("id"), rs.getLong("rollout_id"), Sql.instant(rs, "at"),
                PauseEvent.Cause.valueOf(rs.getString("cause").toUpperCase(Locale.ROOT)), rs.getString("rule"),
                Sql.integer(rs, "rule_version"), Sql.longOrNull(rs, "cohort_id"), s.findings(), s.links(), s.deviceLinks(),
                rs.getString("actor"), rs.getString("reason"), Sql.instant(rs, "resumed_at"), rs.getString("resumed_by"),
                rs.getString("resume_reason"));
    }
}
