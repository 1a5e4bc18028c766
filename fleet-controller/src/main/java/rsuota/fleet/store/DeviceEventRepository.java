package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Device events, deduplicated by the (device_id, seq) primary key, and the per-device link
 * bookkeeping beside them: highest seq, duplicates dropped, seq numbers skipped, presence.
 */
public final class DeviceEventRepository {
    /** One event as stored; {@code detail} is a JSON object as text. */
    public record StoredEvent(String deviceId, long seq, Instant at, Instant receivedAt, String type, String state,
                              String release, String reason, String detail) {}

    /**
     * What storing an event did.
     *
     * @param duplicate the (device, seq) was stored before; nothing changed but the duplicate count
     * @param skipped   seq numbers between the previous highest and this one that were never seen (0: none)
     */
    public record Stored(boolean duplicate, long skipped) {}

    /** A device's link counters. */
    public record Link(String deviceId, long maxSeq, long events, long duplicates, long gaps, String presence, Instant presenceAt) {}

    private final Connection c;

    DeviceEventRepository(Connection c) {
        this.c = c;
    }

    public Stored insert(StoredEvent e) throws SQLException {
        // The device's link row is locked first (created if new): its counters are read and written back below,
        // and ingest on several replicas may store events of one device at the same time (PostgreSQL without the
        // store-wide lock). A second writer waits here and then reads the first one's counters.
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO device_links (device_id, max_seq, events, duplicates, gaps, updated_at) VALUES (?, 0, 0, 0, 0, ?)
                ON CONFLICT (device_id) DO UPDATE SET updated_at = device_links.updated_at""")) {
            ps.setString(1, e.deviceId());
            Sql.setMillis(ps, 2, e.receivedAt());
            ps.executeUpdate();
        }
        int inserted;
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO device_events (device_id, seq, at, received_at, type, state, release, reason, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, seq) DO NOTHING""")) {
            ps.setString(1, e.deviceId());
            ps.setLong(2, e.seq());
            Sql.setMillis(ps, 3, e.at());
            Sql.setMillis(ps, 4, e.receivedAt());
            ps.setString(5, e.type());
            Sql.setText(ps, 6, e.state());
            Sql.setText(ps, 7, e.release());
            Sql.setText(ps, 8, e.reason());
            ps.setString(9, e.detail());
            inserted = ps.executeUpdate();
        }
        Optional<Link> link = link(e.deviceId());
        long max = link.map(Link::maxSeq).orElse(0L);
        if (inserted == 0) {
            upsertLink(e.deviceId(), max, link.map(Link::events).orElse(0L), link.map(Link::duplicates).orElse(0L) + 1,
                    link.map(Link::gaps).orElse(0L), e.receivedAt());
            return new Stored(true, 0);
        }
        // A seq above max+1 leaves a hole that a later re-send may fill; the count says how many
        // were missing when first noticed, which is what an operator needs to judge a link.
        long skipped = e.seq() > max + 1 ? e.seq() - max - 1 : 0;
        upsertLink(e.deviceId(), Math.max(max, e.seq()), link.map(Link::events).orElse(0L) + 1,
                link.map(Link::duplicates).orElse(0L), link.map(Link::gaps).orElse(0L) + skipped, e.receivedAt());
        return new Stored(false, skipped);
    }

    public void presence(String deviceId, String presence, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO device_links (device_id, max_seq, events, duplicates, gaps, presence, presence_at, updated_at)
                VALUES (?, 0, 0, 0, 0, ?, ?, ?)
                ON CONFLICT (device_id) DO UPDATE SET presence = excluded.presence, presence_at = excluded.presence_at,
                  updated_at = excluded.updated_at""")) {
            ps.setString(1, deviceId);
            ps.setString(2, presence);
            Sql.setMillis(ps, 3, at);
            Sql.setMillis(ps, 4, at);
            ps.executeUpdate();
        }
    }

    public Optional<Link> link(String deviceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT device_id, max_seq, events, duplicates, gaps, presence, presence_at FROM device_links WHERE device_id = ?")) {
            ps.setString(1, deviceId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(link(rs)) : Optional.empty();
            }
        }
    }

    public List<Link> links() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT device_id, max_seq, events, duplicates, gaps, presence, presence_at FROM device_links ORDER BY device_id");
             ResultSet rs = ps.executeQuery()) {
            List<Link> out = new ArrayList<>();
            while (rs.next()) out.add(link(rs));
            return out;
        }
    }

    /** Events of one device, by seq. */
    public List<StoredEvent> events(String deviceId, long afterSeq, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT device_id, seq, at, received_at, type, state, release, reason, detail FROM device_events
                WHERE device_id = ? AND seq > ? ORDER BY seq LIMIT ?""")) {
            ps.setString(1, deviceId);
            ps.setLong(2, afterSeq);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<StoredEvent> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new StoredEvent(rs.getString(1), rs.getLong(2), Sql.instant(rs, "at"), Sql.instant(rs, "received_at"),
                            rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9)));
                }
                return out;
            }
        }
    }

    /**
     * The byte counts of each unit's newest verified download of {@code release} (the detail of its verified transition),
     * for the units of rollout {@code rolloutId}, by unit id; a unit that reported none (not verified yet, or an agent that
     * does not count) is absent. One query for the whole rollout, however many units it has.
     */
    public Map<String, rsuota.wire.MqttEvent.DownloadBytes> downloadBytes(long rolloutId, String release) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT e.device_id, e.detail FROM device_events e JOIN rollout_devices d ON d.device_id = e.device_id
                WHERE d.rollout_id = ? AND e.release = ? AND e.type = 'transition' AND e.state = 'verified'
                ORDER BY e.device_id, e.seq""")) {
            ps.setLong(1, rolloutId);
            ps.setString(2, release);
            try (ResultSet rs = ps.executeQuery()) {
                Map<String, rsuota.wire.MqttEvent.DownloadBytes> out = new java.util.HashMap<>();
                while (rs.next()) {
                    // rows come oldest first per unit: the newest verified transition decides, even one without counts
                    Optional<rsuota.wire.MqttEvent.DownloadBytes> b = bytesIn(rs.getString(2));
                    if (b.isPresent()) out.put(rs.getString(1), b.get());
                    else out.remove(rs.getString(1));
                }
                return out;
            }
        }
    }

    private static Optional<rsuota.wire.MqttEvent.DownloadBytes> bytesIn(String detailJson) {
        if (detailJson == null) return Optional.empty();
        Map<String, String> detail;
        try {
            detail = rsuota.wire.WireCodec.mapper().readValue(detailJson, new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() {});
        } catch (java.io.IOException e) {
            return Optional.empty(); // stored by this controller from a validated event; unreadable means none
        }
        return rsuota.wire.MqttEvent.DownloadBytes.in(detail);
    }

    /** Totals over all devices: events stored, duplicates dropped, seq numbers skipped. */
    public long[] totals() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT COALESCE(SUM(events), 0), COALESCE(SUM(duplicates), 0), COALESCE(SUM(gaps), 0) FROM device_links");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)};
        }
    }

    private void upsertLink(String deviceId, long maxSeq, long events, long duplicates, long gaps, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO device_links (device_id, max_seq, events, duplicates, gaps, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (device_id) DO UPDATE SET max_seq = excluded.max_seq, events = excluded.events,
                  duplicates = excluded.duplicates, gaps = excluded.gaps, updated_at = excluded.updated_at""")) {
            ps.setString(1, deviceId);
            ps.setLong(2, maxSeq);
            ps.setLong(3, events);
            ps.setLong(4, duplicates);
            ps.setLong(5, gaps);
            Sql.setMillis(ps, 6, now);
            ps.executeUpdate();
        }
    }

    private static Link link(ResultSet rs) throws SQLException {
        return new Link(rs.getString("device_id"), rs.getLong("max_seq"), rs.getLong("events"), rs.getLong("duplicates"),
                rs.getLong("gaps"), rs.getString("presence"), Sql.instant(rs, "presence_at"));
    }
}
