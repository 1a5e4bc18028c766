package rsuota.fleet.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.audit.AuditVerification;
import rsuota.fleet.audit.AuditVerifier;
import rsuota.fleet.domain.DeviceRecord;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fixtures.pg.PostgresServer;
import rsuota.fixtures.time.SettableClock;

/** The PostgreSQL store itself: schema guard, writers on several replicas, passwords, a server restarted under load. */
class PostgresStoreTest {
    @TempDir
    Path dir;
    final SettableClock clock = new SettableClock(Instant.parse("2026-03-01T10:00:00Z"));

    static PostgresLocation fresh(PostgresServer pg, String hint) throws Exception {
        return PostgresLocation.parse(pg.url(pg.createDatabase(hint)));
    }

    @Test
    void aReplicaWithAnOlderSchemaRefusesToStartNamingBothVersionsAndChangesNothing() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        PostgresLocation loc = fresh(pg, "older_replica");
        try (PostgresDatabase db = PostgresDatabase.open(loc, pg.password(), clock)) {
            assertThat(db.schemaVersion()).isEqualTo(Migrations.latest());
        }
        List<Migration> older = Migrations.ALL.subList(0, Migrations.ALL.size() - 1);
        int olderLatest = older.get(older.size() - 1).version();
        assertThatThrownBy(() -> PostgresDatabase.open(loc, pg.password(), clock, older))
                .isInstanceOfSatisfying(FleetException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STORE_FAILURE))
                .hasMessageContaining("schema version " + Migrations.latest())
                .hasMessageContaining("knows only up to " + olderLatest)
                .hasMessageContaining("run a newer controller");
        assertThat(PostgresDatabase.probeVersion(loc, pg.password())).isEqualTo(Migrations.latest());
    }

    @Test
    void anOlderStoreIsMigratedByANewerReplicaKeepingItsData() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        PostgresLocation loc = fresh(pg, "upgrade");
        try (PostgresDatabase db = PostgresDatabase.open(loc, pg.password(), clock, Migrations.ALL.subList(0, 1))) {
            db.write(tx -> {
                tx.devices().upsert(new DeviceRecord("rsu-1", "rsu-a1", "north", null, null, List.of()), null, clock.instant());
                return null;
            });
        }
        try (PostgresDatabase db = PostgresDatabase.open(loc, pg.password(), clock)) {
            assertThat(db.schemaVersion()).isEqualTo(Migrations.latest());
            assertThat(db.<Long>read(tx -> tx.count(Table.DEVICES))).isEqualTo(1);
            assertThat(db.<Long>read(tx -> tx.count(Table.KPI_SAMPLES))).isZero();
        }
    }

    @Test
    void writersOnTwoReplicasKeepOneLinearVerifiableAuditChain() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        PostgresLocation loc = fresh(pg, "two_writers");
        int perThread = 25;
        try (PostgresDatabase a = PostgresDatabase.open(loc, pg.password(), clock);
             PostgresDatabase b = PostgresDatabase.open(loc, pg.password(), clock)) {
            ExecutorService pool = Executors.newFixedThreadPool(6);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 6; t++) {
                    PostgresDatabase db = t % 2 == 0 ? a : b;
                    AuditLog log = new AuditLog(clock);
                    int thread = t;
                    done.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i++) {
                            int n = i;
                            db.write(tx -> log.append(tx, new Principal("replica-" + (thread % 2), Role.ADMIN), "device.update",
                                    "device:rsu-" + thread + "-" + n, null, Map.of("n", n)));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) f.get(60, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
            AuditVerification v = a.read(AuditVerifier::verify);
            assertThat(v.ok()).as(v.problem()).isTrue();
            assertThat(v.entries()).isEqualTo(6L * perThread);
            assertThat(b.<Long>read(tx -> tx.audit().last().orElseThrow().seq())).isEqualTo(6L * perThread);
        }
    }

    @Test
    void ingestOnTwoReplicasRunsAtOnceOrderedWritesWaitForItAndAuditWorkRerunsInTheOrder() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        PostgresLocation loc = fresh(pg, "ingest_beside");
        try (PostgresDatabase a = PostgresDatabase.open(loc, pg.password(), clock);
             PostgresDatabase b = PostgresDatabase.open(loc, pg.password(), clock)) {
            b.write(tx -> {
                tx.devices().upsert(new DeviceRecord("rsu-1", "rsu-a1", "north", null, null, List.of()), null, clock.instant());
                tx.devices().upsert(new DeviceRecord("rsu-2", "rsu-a1", "north", null, null, List.of()), null, clock.instant());
                return null;
            });
            java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            Instant at = clock.instant();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                // Replica a's ingest transaction is open (rsu-1's report) ...
                Future<?> open = pool.submit(() -> a.ingest(tx -> {
                    tx.kpiSamples().record("rsu-1", at, 0.99, 10, 20, 0);
                    holding.countDown();
                    try {
                        assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return null;
                }));
                assertThat(holding.await(30, TimeUnit.SECONDS)).isTrue();
                // ... and replica b's telemetry is stored meanwhile: ingest shares the write lock.
                b.ingest(tx -> {
                    tx.devices().updateReportedState("rsu-2", "{}", at);
                    tx.kpiSamples().record("rsu-2", at, 0.99, 10, 20, 0);
                    return tx.events().insert(new DeviceEventRepository.StoredEvent("rsu-2", 1, at, at, "state", "idle", null, null, "{}"));
                });
                assertThat(open.isDone()).as("b's ingest finished while a's was open").isFalse();
                // Ingest that reaches the audit chain is rolled back and run again under the exclusive lock: it waits for a's.
                AtomicInteger runs = new AtomicInteger();
                Future<?> auditing = pool.submit(() -> b.ingest(tx -> {
                    runs.incrementAndGet();
                    tx.kpiSamples().record("rsu-2", at.plusMillis(1), 0.98, 10, 20, 0);
                    return new AuditLog(clock).append(tx, Principal.system("telemetry"), "rollout.device.flag", "device:rsu-2", null, Map.of());
                }));
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> waitingForTheWriteLock(b) == 1);
                assertThat(runs.get()).isEqualTo(1);
                assertThat(auditing.isDone()).isFalse();
                release.countDown();
                open.get(30, TimeUnit.SECONDS);
                auditing.get(30, TimeUnit.SECONDS);
                assertThat(runs.get()).isEqualTo(2);
            } finally {
                release.countDown();
                pool.shutdownNow();
            }
            AuditVerification v = a.read(AuditVerifier::verify);
            assertThat(v.ok()).as(v.problem()).isTrue();
            assertThat(v.entries()).isEqualTo(1);
            assertThat(a.<Long>read(tx -> tx.count(Table.KPI_SAMPLES))).as("three samples, the first run's rolled back").isEqualTo(3);
        }
    }

    /** After a bulk change the planner's statistics are refreshed at once, and then at most every 30 s per table. */
    @Test
    void aBulkChangeRefreshesThePlannerStatisticsAtMostEvery30Seconds() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        try (PostgresDatabase db = PostgresDatabase.open(fresh(pg, "bulk_analyze"), pg.password(), clock)) {
            assertThat(plannerRows(db, "devices")).as("never analysed").isEqualTo(-1);
            register(db, 0, 600);
            db.bulkChanged(Table.DEVICES);
            assertThat(plannerRows(db, "devices")).isEqualTo(600);
            register(db, 600, 1000);
            db.bulkChanged(Table.DEVICES);
            assertThat(plannerRows(db, "devices")).as("within 30 s of the last").isEqualTo(600);
            clock.advance(PostgresDatabase.ANALYZE_EVERY);
            db.bulkChanged(Table.DEVICES, Table.DESIRED_STATES);
            assertThat(plannerRows(db, "devices")).isEqualTo(1000);
            assertThat(plannerRows(db, "desired_states")).as("analysed: empty").isZero();
            db.close();
            clock.advance(PostgresDatabase.ANALYZE_EVERY);
            db.bulkChanged(Table.DEVICES); // a store that cannot answer: logged, never thrown to the tick or the operator's call
        }
    }

    private void register(Database db, int from, int to) throws FleetException {
        db.write(tx -> {
            for (int i = from; i < to; i++) tx.devices().upsert(new DeviceRecord("rsu-" + i, "rsu-a1", "north", null, null, List.of()), null, clock.instant());
            return null;
        });
    }

    private static long plannerRows(Database db, String table) throws FleetException {
        return db.read(tx -> {
            try (var ps = tx.connection().prepareStatement("SELECT reltuples FROM pg_class WHERE relname = ?")) {
                ps.setString(1, table);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    return (long) rs.getFloat(1);
                }
            }
        });
    }

    /** A write that holds the store-wide order past 1 s is named in the log (ingest waited for it); short ones and ingest are not. */
    @Test
    void aLongOrderedWriteIsLoggedWithItsCaller() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(PostgresDatabase.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> records = new ch.qos.logback.core.read.ListAppender<>();
        records.start();
        logger.addAppender(records);
        try (PostgresDatabase db = PostgresDatabase.open(fresh(pg, "slow_write"), pg.password(), clock)) {
            db.write(tx -> null);
            db.ingest(tx -> hold());
            assertThat(records.list).as("short writes and ingest are not logged").isEmpty();
            db.write(tx -> hold());
        } finally {
            logger.detachAppender(records);
        }
        assertThat(records.list).hasSize(1);
        String m = records.list.get(0).getFormattedMessage();
        assertThat(m).contains("PostgresStoreTest.aLongOrderedWriteIsLoggedWithItsCaller").contains("held the store-wide write order for 1")
                .contains("telemetry ingest and other writers waited for it");
    }

    /** A transaction's work that takes a little longer than a slow ordered write (real time: what is measured is the lock held). */
    private static Void hold() {
        try {
            Thread.sleep(PostgresDatabase.SLOW_ORDERED_MS + 100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    private static long waitingForTheWriteLock(Database db) throws FleetException {
        return db.read(tx -> {
            try (var st = tx.connection().createStatement();
                 var rs = st.executeQuery("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    @Test
    void eventsOfOneDeviceIngestedOnTwoReplicasAtOnceAreCountedOnceEach() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        PostgresLocation loc = fresh(pg, "ingest_race");
        int seqs = 150;
        try (PostgresDatabase a = PostgresDatabase.open(loc, pg.password(), clock);
             PostgresDatabase b = PostgresDatabase.open(loc, pg.password(), clock)) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                // Every seq is delivered four times (MQTT re-deliveries), to both replicas, at the same time.
                for (int t = 0; t < 4; t++) {
                    PostgresDatabase db = t % 2 == 0 ? a : b;
                    int thread = t;
                    done.add(pool.submit(() -> {
                        for (int i = 0; i < seqs; i++) {
                            long seq = thread < 2 ? i + 1 : seqs - i;
                            Instant at = clock.instant();
                            for (int attempt = 0; ; attempt++) {
                                try {
                                    db.ingest(tx -> tx.events().insert(new DeviceEventRepository.StoredEvent("rsu-9", seq, at, at, "state",
                                            "idle", null, null, "{}")));
                                    break;
                                } catch (FleetException e) {
                                    assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.STORE_BUSY);
                                    assertThat(attempt).as("retries of one event").isLessThan(20);
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) f.get(120, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
            DeviceEventRepository.Link link = a.read(tx -> tx.events().link("rsu-9")).orElseThrow();
            assertThat(link.maxSeq()).isEqualTo(seqs);
            assertThat(link.events()).isEqualTo(seqs);
            assertThat(link.duplicates()).isEqualTo(3L * seqs);
            assertThat(a.<Long>read(tx -> tx.count(Table.DEVICE_EVENTS))).isEqualTo(seqs);
        }
    }

    @Test
    void aWrongOrMissingPasswordIsRefusedNamingTheStoreAndWhereThePasswordComesFrom() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        PostgresLocation loc = fresh(pg, "password");
        assertThatThrownBy(() -> PostgresDatabase.open(loc, "not-the-password", clock))
                .isInstanceOf(FleetException.class)
                .hasMessageContaining(loc.toString())
                .hasMessageContaining("password authentication failed")
                .hasMessageContaining("--db-password-file or PGPASSWORD")
                .hasMessageNotContaining("not-the-password");
        assertThatThrownBy(() -> PostgresDatabase.open(loc, null, clock)).isInstanceOf(FleetException.class)
                .hasMessageContaining("password");
        Path file = dir.resolve("pw");
        Files.writeString(file, pg.password() + "\n");
        StoreSpec spec = StoreSpec.fromOptions(loc.toString(), file, null, Map.of("PGPASSWORD", "ignored-when-a-file-is-given"));
        try (Database db = spec.open(clock)) {
            assertThat(db.schemaVersion()).isEqualTo(Migrations.latest());
        }
        StoreSpec fromEnv = StoreSpec.fromOptions(loc.toString(), null, null, Map.of("PGPASSWORD", pg.password()));
        try (Database db = fromEnv.open(clock)) {
            assertThat(db.schemaVersion()).isEqualTo(Migrations.latest());
        }
        assertThat(fromEnv.toString()).doesNotContain(pg.password());
    }

    @Test
    void badDbUrlsAndPasswordFilesAreRefusedWithTheFix() throws Exception {
        assertThatThrownBy(() -> PostgresLocation.parse("postgresql://ops:secret@db:5432/fleet"))
                .hasMessageContaining("carries a password").hasMessageContaining("--db-password-file").hasMessageNotContaining("secret");
        assertThatThrownBy(() -> PostgresLocation.parse("postgresql://ops@db:5432/fleet?password=secret"))
                .hasMessageContaining("password parameter");
        assertThatThrownBy(() -> PostgresLocation.parse("postgresql://db:5432/fleet")).hasMessageContaining("names no user");
        assertThatThrownBy(() -> PostgresLocation.parse("postgresql://ops@db:5432/")).hasMessageContaining("no valid database");
        assertThatThrownBy(() -> StoreSpec.fromOptions("mysql://ops@db/fleet", null, dir, Map.of())).hasMessageContaining("names no store I know");
        assertThatThrownBy(() -> StoreSpec.fromOptions(null, dir.resolve("pw"), dir, Map.of())).hasMessageContaining("needs --db postgresql://");
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        assertThatThrownBy(() -> StoreSpec.fromOptions("postgresql://ops@db/fleet", empty, dir, Map.of())).hasMessageContaining("is empty");
        assertThatThrownBy(() -> StoreSpec.fromOptions("postgresql://ops@db/fleet", dir.resolve("missing"), dir, Map.of()))
                .hasMessageContaining("cannot read --db-password-file");
        PostgresLocation ok = PostgresLocation.parse("postgresql://ops@db.example:6543/fleet?sslmode=verify-full");
        assertThat(ok.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example:6543/fleet?sslmode=verify-full");
        assertThat(PostgresLocation.parse("postgresql://ops@db/fleet").port()).isEqualTo(5432);
        assertThat(StoreSpec.fromOptions(null, null, dir.resolve("fleet.db"), Map.of())).isEqualTo(new StoreSpec.Sqlite(dir.resolve("fleet.db")));
    }

    @Test
    void aPostgresRestartUnderLoadLosesNoAcknowledgedWriteAndWritesResumeAfterIt() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            PostgresLocation loc = fresh(pg, "restart");
            try (PostgresDatabase db = PostgresDatabase.open(loc, pg.password(), clock)) {
                Set<String> acknowledged = ConcurrentHashMap.newKeySet();
                AtomicInteger busy = new AtomicInteger();
                AtomicBoolean stop = new AtomicBoolean();
                ExecutorService writers = Executors.newFixedThreadPool(3);
                List<Future<?>> running = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    int thread = t;
                    running.add(writers.submit(() -> {
                        for (int i = 0; i < 100_000 && !stop.get(); i++) {
                            String id = "rsu-" + thread + "-" + i;
                            try {
                                db.write(tx -> {
                                    tx.devices().upsert(new DeviceRecord(id, "rsu-a1", "north", null, null, List.of()), null, clock.instant());
                                    return null;
                                });
                                acknowledged.add(id);
                            } catch (FleetException e) {
                                // The store tells the caller to retry; it must never claim a write it did not keep.
                                assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.STORE_BUSY);
                                busy.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() >= 50);
                pg.restart();
                int atRestart = acknowledged.size();
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() >= atRestart + 50);
                stop.set(true);
                for (Future<?> f : running) f.get(60, TimeUnit.SECONDS);
                writers.shutdownNow();
                Set<String> stored = db.read(tx -> {
                    Set<String> ids = new java.util.HashSet<>();
                    try (var st = tx.connection().createStatement(); var rs = st.executeQuery("SELECT id FROM devices")) {
                        while (rs.next()) ids.add(rs.getString(1));
                    }
                    return ids;
                });
                assertThat(stored).containsAll(acknowledged);
                assertThat(busy.get()).as("writes refused with STORE_BUSY while the server restarted").isPositive();
            }
        }
    }
}
