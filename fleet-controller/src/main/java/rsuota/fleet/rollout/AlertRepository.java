package rsuota.fleet.rollout;

import com.fasterxml.jackson.core.type.TypeReference;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import rsuota.fleet.policy.PolicyJson;
import rsuota.fleet.store.Sql;
import rsuota.fleet.store.Table;
import rsuota.fleet.store.Tx;

/** Raised alerts and how their webhook delivery went. */
public final class AlertRepository {
    private final Connection c;

    public AlertRepository(Tx tx) {
        this.c = tx.connection();
    }

    public Alert insert(Instant at, String kind, Long rolloutId, String deviceId, Map<String, Object> detail) throws SQLException {
        long id = Sql.nextId(c, Table.ALERTS, "id");
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO alerts (id, at, kind, rollout_id, device_id, detail) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, id);
            Sql.setMillis(ps, 2, at);
            ps.setString(3, kind);
            Sql.setLong(ps, 4, rolloutId);
            Sql.setText(ps, 5, deviceId);
            ps.setString(6, PolicyJson.write(detail));
            ps.executeUpdate();
        }
        return new Alert(id, at, kind, rolloutId, deviceId, detail, null, null);
    }

    /** Records a delivery attempt's outcome; {@code at} is set only when delivery ended (delivered, or given up). */
    public void delivered(long id, Instant at, String result) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE alerts SET delivered_at = ?, delivery = ? WHERE id = ?")) {
            Sql.setMillis(ps, 1, at);
            ps.setString(2, result);
            ps.setLong(3, id);
            ps.executeUpdate();
        }
    }

    /** Alerts whose webhook delivery has not ended (the controller stopped while sending or waiting to retry). */
    public List<Alert> undelivered() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, at, kind, rollout_id, device_id, detail, delivered_at, delivery FROM alerts WHERE delivered_at IS NULL ORDER BY id")) {
            return rows(ps);
        }
    }

    public List<Alert> forRollout(long rolloutId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, at, kind, rollout_id, device_id, detail, delivered_at, delivery FROM alerts WHERE rollout_id = ? ORDER BY id")) {
            ps.setLong(1, rolloutId);
            return rows(ps);
        }
    }

    private static List<Alert> rows(PreparedStatement ps) throws SQLException {
        {
            try (ResultSet rs = ps.executeQuery()) {
                List<Alert> out = new ArrayList<>();
                while (rs.next()) {
                    Map<String, Object> detail;
                    try {
                        detail = PolicyJson.MAPPER.readValue(rs.getString("detail"), new TypeReference<Map<String, Object>>() {});
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw new SQLException("column alerts.detail is not a JSON object: " + e.getOriginalMessage(), e);
                    }
                    out.add(new Alert(rs.getLong("id"), Sql.instant(rs, "at"), rs.getString("kind"), Sql.longOrNull(rs, "rollout_id"),
                            rs.getString("device_id"), detail, Sql.instant(rs, "delivered_at"), rs.getString("delivery")));
                }
                return out;
            }
        }
    }
}
