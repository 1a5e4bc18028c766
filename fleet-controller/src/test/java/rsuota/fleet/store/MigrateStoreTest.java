package rsuota.fleet.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.app.Controller;
import rsuota.fleet.app.DataDir;
import rsuota.fleet.cli.ExitCodes;
import rsuota.fleet.cli.FleetControllerMain;
import rsuota.fleet.cli.Fleetctl;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.testing.ContractProxy;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RunningController;
import rsuota.fleet.testing.StoreEngine;
import rsuota.fixtures.pg.PostgresServer;
import rsuota.fixtures.pki.TestPki;

/** A site moves from SQLite to PostgreSQL with {@code fleet-controller migrate-store}: every row, the audit chain verifying on the copy. */
class MigrateStoreTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static Run controllerMain(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = FleetControllerMain.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void aSqliteSiteIsCopiedWholeIntoPostgresAndItsAuditChainVerifiesThere() throws Exception {
        TestPki pki = new TestPki();
        rsuota.fixtures.time.SettableClock clock = new rsuota.fixtures.time.SettableClock(pki.now);
        Map<Table, String> before;
        DataDir sqliteDir;
        try (RunningController rc = new RunningController(pki, dir, c -> c, StoreEngine.SQLITE)) {
            sqliteDir = rc.dataDir;
            rc.releases("2.4.0", "2.5.0", dir.resolve("work"));
            for (int i = 1; i <= 5; i++) {
                assertThat(rc.controller.ingest().accept(List.of(DeviceMessages.state("rsu-" + i, "rsu-a1", "i-90", null, null, 0,
                        DeviceMessages.GOOD)))).isEqualTo(1);
                rc.clock.advance(Duration.ofSeconds(30));
            }
            rc.controller.cohorts().create(new Principal("rm", Role.RELEASE_MANAGER),
                    new Cohorts.NewCohort("2.5.0", "pilot", CohortKind.PILOT, null, null, List.of("rsu-1", "rsu-2"), "first wave"));
            before = rc.snapshot();
        }
        assertThat(RunningController.rows(before.get(Table.AUDIT))).isGreaterThan(5);
        assertThat(RunningController.rows(before.get(Table.KPI_SAMPLES))).isPositive();

        PostgresServer pg = PostgresServer.shared();
        String url = pg.url(pg.createDatabase("migrated"));
        Path pw = Files.writeString(dir.resolve("pg-password"), pg.password() + "\n");

        Run copy = controllerMain("migrate-store", "--from", "sqlite:" + sqliteDir.root(), "--to", url, "--db-password-file", pw.toString());
        assertThat(copy.code()).as(copy.err()).isZero();
        assertThat(copy.err()).contains("audit chain ok").doesNotContain(pg.password());
        assertThat(copy.out()).contains("audit " + RunningController.rows(before.get(Table.AUDIT)));

        StoreSpec.Postgres spec = new StoreSpec.Postgres(PostgresLocation.parse(url), pg.password());
        try (Database copied = spec.open(clock)) {
            assertThat(RunningController.snapshotOf(copied)).isEqualTo(before);
        }

        // The controller runs on the copy, and fleetctl's audit verify (through the API contract check) passes.
        Controller onPg = Controller.open(new Controller.Config(new DataDir(sqliteDir.root(), spec), null, "127.0.0.1", 0), clock).serve();
        try (ContractProxy proxy = new ContractProxy(onPg.uri())) {
            String admin = onPg.tokens().create(new Principal(DataDir.INITIAL_ADMIN_LABEL, Role.ADMIN), Role.VIEWER, "after-move",
                    "verify the copy").secret();
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Fleetctl.execute(new String[] {"--url", proxy.uri().toString(), "--token", admin, "audit", "verify"},
                    new PrintWriter(out), new PrintWriter(err));
            assertThat(code).as(err.toString()).isZero();
            assertThat(out.toString()).contains("audit chain ok");
        } finally {
            onPg.close();
        }

        // Again into the same database: refused, nothing written.
        Map<Table, String> moved;
        try (Database copied = spec.open(clock)) {
            moved = RunningController.snapshotOf(copied);
        }
        Run again = controllerMain("migrate-store", "--from", "sqlite:" + sqliteDir.root(), "--to", url, "--db-password-file", pw.toString());
        assertThat(again.code()).isEqualTo(ExitCodes.STARTUP);
        assertThat(again.err()).contains("target store is not empty").contains("nothing was written");
        try (Database copied = spec.open(clock)) {
            assertThat(RunningController.snapshotOf(copied)).isEqualTo(moved);
        }
    }

    @Test
    void badSourcesAndTargetsAreRefusedNamingTheOption() throws Exception {
        Run noDir = controllerMain("migrate-store", "--from", "sqlite:" + dir.resolve("nothing"), "--to", "postgresql://ops@127.0.0.1:1/x");
        assertThat(noDir.code()).isEqualTo(ExitCodes.STARTUP);
        assertThat(noDir.err()).contains("--from").contains("does not exist");
        Run notSqlite = controllerMain("migrate-store", "--from", dir.toString(), "--to", "postgresql://ops@127.0.0.1:1/x");
        assertThat(notSqlite.code()).isEqualTo(ExitCodes.STARTUP);
        assertThat(notSqlite.err()).contains("give sqlite:DIR");
        Files.createDirectories(dir.resolve("site"));
        Files.writeString(dir.resolve("site/fleet.db"), "");
        Run withPassword = controllerMain("migrate-store", "--from", "sqlite:" + dir.resolve("site"), "--to", "postgresql://ops:hunter2@127.0.0.1:1/x");
        assertThat(withPassword.code()).isEqualTo(ExitCodes.STARTUP);
        assertThat(withPassword.err()).contains("--to URL carries a password").doesNotContain("hunter2");
    }
}
