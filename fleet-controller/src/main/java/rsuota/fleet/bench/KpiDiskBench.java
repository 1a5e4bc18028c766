package rsuota.fleet.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.KpiSampleRepository;
import rsuota.fleet.store.PostgresLocation;
import rsuota.fleet.store.StoreSpec;

/**
 * KPI samples on disk (`scripts/bench kpi-disk`): {@code --units} units report every {@code --interval}
 * seconds for {@code --days} simulated days into a fresh store, compacted as the controller compacts
 * them (raw 1 h, 1-minute means 1 d, 10-minute means until the retention), then the table's size with
 * its indexes is divided by its rows and scaled to 1,000 units. Simulated time: the run takes minutes,
 * not days; the rows and their bytes are the ones a real day leaves.
 */
public final class KpiDiskBench {
    private KpiDiskBench() {}

    public static void main(String[] argv) throws Exception {
        rsuota.fleet.cli.Logging.configure();
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) a.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
        String url = a.get("db");
        String password = Files.readAllLines(Path.of(a.get("db-password-file"))).get(0).strip();
        int units = Integer.parseInt(a.getOrDefault("units", "100"));
        int intervalS = Integer.parseInt(a.getOrDefault("interval", "60"));
        int days = Integer.parseInt(a.getOrDefault("days", "2"));
        Duration retention = Duration.ofDays(30);
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        long steps = Duration.ofDays(days).toSeconds() / intervalS;
        long compactEvery = Math.max(1, 600 / intervalS); // every 10 simulated minutes; compaction is idempotent
        long t0 = System.nanoTime();
        try (Database db = new StoreSpec.Postgres(PostgresLocation.parse(url), password).open(Clock.systemUTC())) {
            for (long s = 0; s < steps; s++) {
                Instant at = start.plusSeconds(s * intervalS);
                db.ingest(tx -> {
                    KpiSampleRepository k = tx.kpiSamples();
                    for (int u = 0; u < units; u++) k.record(String.format("rsu-%05d", u), at, 0.999, 300, 2000, 0.0001);
                    return null;
                });
                if ((s + 1) % compactEvery == 0) db.write(tx -> tx.kpiSamples().compact(at, retention));
            }
            Instant end = start.plusSeconds(steps * intervalS);
            db.write(tx -> tx.kpiSamples().compact(end, retention));
            long[] rows = new long[3];
            long bytes = db.read(tx -> {
                try (var st = tx.connection().createStatement()) {
                    try (var rs = st.executeQuery("SELECT resolution, COUNT(*) FROM kpi_samples GROUP BY resolution")) {
                        while (rs.next()) {
                            long r = rs.getLong(1);
                            rows[r == 0 ? 0 : r == KpiSampleRepository.MINUTE ? 1 : 2] = rs.getLong(2);
                        }
                    }
                    try (var rs = st.executeQuery("SELECT pg_total_relation_size('kpi_samples')")) {
                        rs.next();
                        return rs.getLong(1);
                    }
                }
            });
            long total = rows[0] + rows[1] + rows[2];
            // The run packs days into a minute, faster than autovacuum reclaims the compaction's deleted rows; a day at the
            // real pace leaves the table near its compact size. Both are reported; the per-1,000 figures use the compact one.
            PostgresLocation loc = PostgresLocation.parse(url);
            long compact;
            try (var c = java.sql.DriverManager.getConnection(loc.jdbcUrl(), loc.user(), password); var st = c.createStatement()) {
                st.execute("VACUUM FULL kpi_samples");
                try (var rs = st.executeQuery("SELECT pg_total_relation_size('kpi_samples')")) {
                    rs.next();
                    compact = rs.getLong(1);
                }
            }
            double perRow = (double) compact / total;
            double tookS = (System.nanoTime() - t0) / 1e9;
            System.out.printf("units=%d interval_s=%d simulated_days=%d took_s=%.0f%n", units, intervalS, days, tookS);
            System.out.printf("rows raw=%d minute=%d ten_minute=%d total=%d%n", rows[0], rows[1], rows[2], total);
            System.out.printf("kpi_samples_bytes_with_indexes: as_left_by_the_run=%d (%.0f per row, deleted rows not yet vacuumed) compact=%d (%.0f per row)%n",
                    bytes, (double) bytes / total, compact, perRow);
            // Steady state of one unit: the last hour raw, the rest of the last day as 1-minute means, 144 ten-minute means per further day.
            long raw = 3600 / intervalS;
            long minute = Math.min(1380, 23L * 3600 / intervalS);
            double firstDayMiB = (raw + minute) * perRow * 1000 / 1048576.0;
            double perDayMiB = 144 * perRow * 1000 / 1048576.0;
            System.out.printf("per_1000_units: first_day_mib=%.0f each_further_day_of_retention_mib=%.1f at_30d_retention_mib=%.0f%n",
                    firstDayMiB, perDayMiB, firstDayMiB + 29 * perDayMiB);
        }
    }
}
