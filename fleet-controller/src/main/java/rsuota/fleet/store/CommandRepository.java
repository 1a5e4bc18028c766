package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** One-off device commands: written first, published after, acknowledged by the device's cmd_ack event. */
public final class CommandRepository {
    public record Command(String id, String deviceId, String type, String payload, Instant issuedAt, Instant expiresAt,
                         String issuedBy, Instant publishedAt, Instant ackedAt, String ackResult) {}

    private static final String COLUMNS = "id, device_id, type, payload, issued_at, expires_at, issued_by, published_at, acked_at, ack_result";

    private final Connection c;

    CommandRepository(Connection c) {
        this.c = c;
    }

    public void insert(String id, String deviceId, String type, String payload, Instant issuedAt, Instant expiresAt, String by)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO commands (id, device_id, type, payload, issued_at, expires_at, issued_by) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, deviceId);
            ps.setString(3, type);
            ps.setString(4, payload);
            Sql.setMillis(ps, 5, issuedAt);
            Sql.setMillis(ps, 6, expiresAt);
            ps.setString(7, by);
            ps.executeUpdate();
        }
    }

    public Optional<Command> find(String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM commands WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    /** Commands not yet published and not expired at {@code now}. */
    public List<Command> unpublished(Instant now, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                + " FROM commands WHERE published_at IS NULL AND expires_at > ? ORDER BY issued_at, id LIMIT ?")) {
            Sql.setMillis(ps, 1, now);
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<Command> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        }
    }

    public void published(String id, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE commands SET published_at = ? WHERE id = ? AND published_at IS NULL")) {
            Sql.setMillis(ps, 1, at);
            ps.setString(2, id);
            ps.executeUpdate();
        }
    }

    /** Records the device's acknowledgement; false when no such command of this device exists. */
    public boolean acked(String id, String deviceId, String result, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE commands SET acked_at = ?, ack_result = ? WHERE id = ? AND device_id = ? AND acked_at IS NULL")) {
            Sql.setMillis(ps, 1, at);
            Sql.setText(ps, 2, result);
            ps.setString(3, id);
            ps.setString(4, deviceId);
            return ps.executeUpdate() == 1;
        }
    }

    private static Command row(ResultSet rs) throws SQLException {
        return new Command(rs.getString("id"), rs.getString("device_id"), rs.getString("type"), rs.getString("payload"),
                Sql.instant(rs, "issued_at"), Sql.instant(rs, "expires_at"), rs.getString("issued_by"), Sql.instant(rs, "published_at"),
                Sql.instant(rs, "acked_at"), rs.getString("ack_result"));
    }
}
