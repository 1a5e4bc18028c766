package rsuota.fleet.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.domain.DeviceRecord;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fixtures.time.SettableClock;

class MigratorTest {
    @TempDir
    Path dir;
    final SettableClock clock = new SettableClock(Instant.parse("2026-03-01T10:00:00Z"));

    @Test
    void freshStoreGetsEveryMigrationAndWalMode() throws Exception {
        Path file = dir.resolve("fresh.db");
        try (SqliteDatabase db = SqliteDatabase.open(file, clock)) {
            assertThat(db.schemaVersion()).isEqualTo(Migrations.latest());
            for (Table t : Table.values()) assertThat(db.<Long>read(tx -> tx.count(t))).as(t.name()).isZero();
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("PRAGMA journal_mode");
            rs.next();
            assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
            rs = st.executeQuery("SELECT version, description FROM schema_version ORDER BY version");
            List<Integer> versions = new ArrayList<>();
            while (rs.next()) versions.add(rs.getInt(1));
            assertThat(versions).isEqualTo(Migrations.ALL.stream().map(Migration::version).toList());
        }
    }

    @Test
    void existingStoreAtAnOlderVersionIsMigratedKeepingItsData() throws Exception {
        Path file = dir.resolve("old.db");
        try (SqliteDatabase db = SqliteDatabase.open(file, clock, Migrations.ALL.subList(0, 1))) {
            assertThat(db.schemaVersion()).isEqualTo(1);
            db.write(tx -> {
                tx.devices().upsert(new DeviceRecord("rsu-1", "rsu-a1", "north", null, null, List.of()), null, clock.instant());
                return null;
            });
            assertThat(db.<Boolean>read(tx -> tableExists(tx.connection(), "incidents"))).isFalse();
        }
        try (SqliteDatabase db = SqliteDatabase.open(file, clock)) {
            assertThat(db.schemaVersion()).isEqualTo(Migrations.latest());
            assertThat(db.<Boolean>read(tx -> tableExists(tx.connection(), "incidents"))).isTrue();
            assertThat(db.<java.util.Optional<rsuota.fleet.domain.Device>>read(tx -> tx.devices().find("rsu-1"))).get().extracting(d -> d.record().region()).isEqualTo("north");
        }
    }

    @Test
    void reopeningACurrentStoreAppliesNothing() throws Exception {
        Path file = dir.resolve("current.db");
        SqliteDatabase.open(file, clock).close();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            assertThat(Migrator.migrate(c, new PlainTx(), Migrations.ALL, clock)).isEmpty();
        }
    }

    @Test
    void aFailingMigrationIsRolledBackWhole() throws Exception {
        Path file = dir.resolve("broken.db");
        SqliteDatabase.open(file, clock, Migrations.ALL.subList(0, 1)).close();
        List<Migration> withBadOne = List.of(Migrations.ALL.get(0),
                new Migration(2, "half good", List.of("CREATE TABLE half (id BIGINT)", "CREATE TABLE broken (")));
        assertThatThrownBy(() -> SqliteDatabase.open(file, clock, withBadOne))
                .isInstanceOf(FleetException.class)
                .hasMessageContaining("migration 2 (half good) failed and was rolled back")
                .hasMessageContaining("stays at version 1");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            assertThat(Migrator.currentVersion(c)).isEqualTo(1);
            assertThat(tableExists(c, "half")).as("the good statement of the failed migration is rolled back too").isFalse();
        }
    }

    @Test
    void aStoreNewerThanThisBuildIsRefused() throws Exception {
        Path file = dir.resolve("newer.db");
        SqliteDatabase.open(file, clock).close();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            st.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'from the future', 0)");
        }
        assertThatThrownBy(() -> SqliteDatabase.open(file, clock))
                .isInstanceOf(FleetException.class)
                .satisfies(e -> assertThat(((FleetException) e).code()).isEqualTo(ErrorCode.STORE_FAILURE))
                .hasMessageContaining("schema version 99");
    }

    static boolean tableExists(Connection c, String name) throws java.sql.SQLException {
        try (ResultSet rs = c.getMetaData().getTables(null, null, name, null)) {
            return rs.next();
        }
    }

    /** Plain transactions for driving the migrator on a raw connection. */
    static final class PlainTx implements Migrator.TxControl {
        public void begin(Connection c) throws java.sql.SQLException {
            c.createStatement().execute("BEGIN");
        }

        public void commit(Connection c) throws java.sql.SQLException {
            c.createStatement().execute("COMMIT");
        }

        public void rollback(Connection c) throws java.sql.SQLException {
            c.createStatement().execute("ROLLBACK");
        }
    }
}
