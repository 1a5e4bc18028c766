package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import rsuota.fleet.domain.Incident;
import rsuota.fleet.domain.IncidentState;
import rsuota.fleet.domain.Severity;

/** Incidents as reported by the incident tool, keyed by the tool's id. */
public final class IncidentRepository {
    private static final String COLUMNS = "id, severity, state, release, title, opened_at, updated_at, resolved_at";

    private final Connection c;

    IncidentRepository(Connection c) {
        this.c = c;
    }

    public Optional<Incident> find(String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM incidents WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    /** Inserts or replaces every field of the incident with this id. */
    public void upsert(Incident i) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO incidents (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                + "ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, state = excluded.state, release = excluded.release, "
                + "title = excluded.title, updated_at = excluded.updated_at, resolved_at = excluded.resolved_at")) {
            ps.setString(1, i.id());
            ps.setString(2, i.severity().wire());
            ps.setString(3, i.state().wire());
            Sql.setText(ps, 4, i.release());
            Sql.setText(ps, 5, i.title());
            Sql.setMillis(ps, 6, i.openedAt());
            Sql.setMillis(ps, 7, i.updatedAt());
            Sql.setMillis(ps, 8, i.resolvedAt());
            ps.executeUpdate();
        }
    }

    /** All incidents, newest first. */
    public List<Incident> list() throws SQLException {
        return query("SELECT " + COLUMNS + " FROM incidents ORDER BY opened_at DESC, id", null);
    }

    /** Open incidents linked to {@code release} (what a Sev1 pause rule looks at). */
    public List<Incident> openFor(String release) throws SQLException {
        return query("SELECT " + COLUMNS + " FROM incidents WHERE release = ? AND state = 'open' ORDER BY opened_at, id", release);
    }

    private List<Incident> query(String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (arg != null) ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                List<Incident> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        }
    }

    private static Incident row(ResultSet rs) throws SQLException {
        return new Incident(rs.getString("id"), Severity.valueOf(rs.getString("severity").toUpperCase(Locale.ROOT)),
                IncidentState.valueOf(rs.getString("state").toUpperCase(Locale.ROOT)), rs.getString("release"),
                rs.getString("title"), Sql.instant(rs, "opened_at"), Sql.instant(rs, "updated_at"), Sql.instant(rs, "resolved_at"));
    }
}
