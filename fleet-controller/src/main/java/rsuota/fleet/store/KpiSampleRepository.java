package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every device's KPI reports, kept as long as an observation window can last: raw for the last
 * hour, then merged into 1-minute means up to a day, then 10-minute means until the retention
 * ends ({@link #compact}). Each row counts the reports it stands for ({@code n}), so a mean over
 * any stretch is weighted right whatever resolution its rows have. Portable SQL (SQLite and
 * PostgreSQL both take {@code ON CONFLICT ... DO UPDATE}).
 */
public final class KpiSampleRepository {
    /** Raw reports are kept this long: the sliding windows of the rules (minutes) are rebuilt from them after a restart. */
    public static final Duration RAW = Duration.ofHours(1);
    /** 1-minute means are kept this long, then merged into 10-minute means. */
    public static final Duration MINUTE_MEANS = Duration.ofDays(1);
    public static final long MINUTE = 60_000;
    public static final long TEN_MINUTES = 600_000;

    /** One stored row: a raw report (resolution 0) or a mean over {@code resolution} ms starting at {@code at}. */
    public record Sample(String deviceId, long resolution, Instant at, int n, double availability, double lagMedianMs, double lagP95Ms,
                         double droppedRatio) {}

    /** A device's mean over a stretch of time, weighted by the reports behind each row. */
    public record Mean(String deviceId, long reports, double availability, double lagMedianMs, double lagP95Ms, double droppedRatio) {}

    private static final String MERGE = " ON CONFLICT (device_id, resolution, at) DO UPDATE SET n = kpi_samples.n + excluded.n, "
            + "availability = (kpi_samples.availability * kpi_samples.n + excluded.availability * excluded.n) / (kpi_samples.n + excluded.n), "
            + "lag_median_ms = (kpi_samples.lag_median_ms * kpi_samples.n + excluded.lag_median_ms * excluded.n) / (kpi_samples.n + excluded.n), "
            + "lag_p95_ms = (kpi_samples.lag_p95_ms * kpi_samples.n + excluded.lag_p95_ms * excluded.n) / (kpi_samples.n + excluded.n), "
            + "dropped_ratio = (kpi_samples.dropped_ratio * kpi_samples.n + excluded.dropped_ratio * excluded.n) / (kpi_samples.n + excluded.n)";

    private final Connection c;

    KpiSampleRepository(Connection c) {
        this.c = c;
    }

    /** Stores one report (two reports of a device in the same millisecond merge into one row). */
    public void record(String deviceId, Instant at, double availability, double lagMedianMs, double lagP95Ms, double droppedRatio)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO kpi_samples (device_id, resolution, at, n, availability, lag_median_ms, "
                + "lag_p95_ms, dropped_ratio) VALUES (?, 0, ?, 1, ?, ?, ?, ?)" + MERGE)) {
            ps.setString(1, deviceId);
            ps.setLong(2, at.toEpochMilli());
            ps.setDouble(3, availability);
            ps.setDouble(4, lagMedianMs);
            ps.setDouble(5, lagP95Ms);
            ps.setDouble(6, droppedRatio);
            ps.executeUpdate();
        }
    }

    /** Raw reports newer than {@code since}, oldest first (to rebuild the sliding windows after a restart). */
    public List<Sample> rawSince(Instant since) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT device_id, resolution, at, n, availability, lag_median_ms, lag_p95_ms, dropped_ratio "
                + "FROM kpi_samples WHERE resolution = 0 AND at > ? ORDER BY at, device_id")) {
            ps.setLong(1, since.toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                List<Sample> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new Sample(rs.getString(1), rs.getLong(2), Instant.ofEpochMilli(rs.getLong(3)), rs.getInt(4), rs.getDouble(5),
                            rs.getDouble(6), rs.getDouble(7), rs.getDouble(8)));
                }
                return out;
            }
        }
    }

    /**
     * Each device's weighted mean over {@code [from, to]} (rows of any resolution whose start lies
     * in it), for the devices of {@code phase} of {@code rollout} that were dispatched.
     */
    public Map<String, Mean> phaseMeans(long rollout, int phase, Instant from, Instant to) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT s.device_id, SUM(s.n), SUM(s.availability * s.n) / SUM(s.n), SUM(s.lag_median_ms * s.n) / SUM(s.n),
                       SUM(s.lag_p95_ms * s.n) / SUM(s.n), SUM(s.dropped_ratio * s.n) / SUM(s.n)
                FROM kpi_samples s
                WHERE s.at >= ? AND s.at <= ? AND s.device_id IN (
                  SELECT device_id FROM rollout_devices WHERE rollout_id = ? AND phase_idx = ? AND rev IS NOT NULL)
                GROUP BY s.device_id ORDER BY s.device_id""")) {
            ps.setLong(1, from.toEpochMilli());
            ps.setLong(2, to.toEpochMilli());
            ps.setLong(3, rollout);
            ps.setInt(4, phase);
            try (ResultSet rs = ps.executeQuery()) {
                Map<String, Mean> out = new LinkedHashMap<>();
                while (rs.next()) {
                    out.put(rs.getString(1), new Mean(rs.getString(1), rs.getLong(2), rs.getDouble(3), rs.getDouble(4), rs.getDouble(5), rs.getDouble(6)));
                }
                return out;
            }
        }
    }

    /** What one {@link #compact} did. */
    public record Compaction(int mergedToMinutes, int mergedToTenMinutes, int expired) {}

    /**
     * Downsamples with age and drops what is older than {@code retention}: raw reports older than
     * {@link #RAW} become 1-minute means, 1-minute means older than {@link #MINUTE_MEANS} become
     * 10-minute means. Idempotent: a second run at the same instant changes nothing.
     */
    public Compaction compact(Instant now, Duration retention) throws SQLException {
        long t = now.toEpochMilli();
        int a = merge(0, MINUTE, t - RAW.toMillis());
        int b = merge(MINUTE, TEN_MINUTES, t - MINUTE_MEANS.toMillis());
        int e;
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM kpi_samples WHERE at < ?")) {
            ps.setLong(1, t - retention.toMillis());
            e = ps.executeUpdate();
        }
        return new Compaction(a, b, e);
    }

    private int merge(long fromResolution, long toResolution, long before) throws SQLException {
        // The bucket is computed once in a sub-select: PostgreSQL cannot match a GROUP BY expression with
        // parameters to the same expression in the select list.
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO kpi_samples (device_id, resolution, at, n, availability, lag_median_ms, "
                + "lag_p95_ms, dropped_ratio) SELECT device_id, ?, bucket, SUM(n), SUM(availability * n) / SUM(n), "
                + "SUM(lag_median_ms * n) / SUM(n), SUM(lag_p95_ms * n) / SUM(n), SUM(dropped_ratio * n) / SUM(n) FROM "
                + "(SELECT device_id, (at / ?) * ? AS bucket, n, availability, lag_median_ms, lag_p95_ms, dropped_ratio FROM kpi_samples "
                + "WHERE resolution = ? AND at < ?) AS old GROUP BY device_id, bucket" + MERGE)) {
            ps.setLong(1, toResolution);
            ps.setLong(2, toResolution);
            ps.setLong(3, toResolution);
            ps.setLong(4, fromResolution);
            ps.setLong(5, before);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM kpi_samples WHERE resolution = ? AND at < ?")) {
            ps.setLong(1, fromResolution);
            ps.setLong(2, before);
            return ps.executeUpdate();
        }
    }
}
