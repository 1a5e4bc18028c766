package rsuota.fleet.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.PostgresLocation;
import rsuota.fleet.store.StoreSpec;
import rsuota.fixtures.pg.PostgresServer;

/**
 * The two store engines the repository tests run against: a SQLite file in the test's directory, or a
 * fresh database on the JVM's one real PostgreSQL ({@link PostgresServer#shared()}).
 *
 * <p>{@code -Drsuota.test.store=postgresql} makes {@link RunningController} (every controller-level test)
 * use PostgreSQL too: {@code mvn -pl fleet-controller verify -Drsuota.test.store=postgresql}.
 */
public enum StoreEngine {
    SQLITE, POSTGRESQL;

    /** The engine {@link RunningController} uses: SQLite unless {@code -Drsuota.test.store=postgresql}. */
    public static StoreEngine forControllers() {
        return valueOf(System.getProperty("rsuota.test.store", "sqlite").toUpperCase(Locale.ROOT));
    }

    /** A new, empty store: the file {@code dir/fleet.db}, or a new database named after {@code hint}. */
    public StoreSpec fresh(Path dir, String hint) throws IOException {
        if (this == SQLITE) return new StoreSpec.Sqlite(dir.resolve("fleet.db"));
        PostgresServer pg = PostgresServer.shared();
        return new StoreSpec.Postgres(PostgresLocation.parse(pg.url(pg.createDatabase(hint))), pg.password());
    }

    /** A new store, opened (migrated). */
    public Database open(Path dir, String hint, Clock clock) throws IOException, FleetException {
        return fresh(dir, hint).open(clock);
    }
}
