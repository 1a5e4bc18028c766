package rsuota.fleet.store;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import rsuota.fleet.domain.FleetException;

/**
 * Which engine holds a controller's store: the SQLite file in the data directory (the default), or
 * a PostgreSQL database named by a {@code --db} URL with its password from a file or the environment.
 */
public sealed interface StoreSpec permits StoreSpec.Sqlite, StoreSpec.Postgres {

    /** Opens the store, applying pending migrations. */
    Database open(Clock clock) throws FleetException;

    /** Names the store in logs and errors (never a password). */
    String describe();

    /** The SQLite file {@code file}. */
    record Sqlite(Path file) implements StoreSpec {
        public Database open(Clock clock) throws FleetException {
            return SqliteDatabase.open(file, clock);
        }

        public String describe() {
            return file.toString();
        }
    }

    /** A PostgreSQL database; {@code password} may be null (trust or certificate authentication). */
    record Postgres(PostgresLocation location, String password) implements StoreSpec {
        public Database open(Clock clock) throws FleetException {
            return PostgresDatabase.open(location, password, clock);
        }

        public String describe() {
            return location.toString();
        }

        @Override
        public String toString() {
            return "Postgres[" + location + "]"; // never the password
        }
    }

    /**
     * The store a command line names: {@code dbUrl} null means the SQLite file {@code defaultFile};
     * a {@code postgresql://} URL takes its password from {@code passwordFile} or {@code PGPASSWORD}.
     *
     * @throws IllegalArgumentException naming the bad option
     */
    static StoreSpec fromOptions(String dbUrl, Path passwordFile, Path defaultFile, Map<String, String> env) {
        if (dbUrl == null) {
            if (passwordFile != null) throw new IllegalArgumentException("--db-password-file needs --db postgresql://...: the SQLite store has no password");
            return new Sqlite(defaultFile);
        }
        if (!PostgresLocation.looksLike(dbUrl)) {
            throw new IllegalArgumentException("--db '" + dbUrl + "' names no store I know: give postgresql://USER@HOST:PORT/DATABASE, "
                    + "or leave --db out for the SQLite store in the data directory");
        }
        return new Postgres(PostgresLocation.parse(dbUrl), PostgresLocation.password(passwordFile, env));
    }
}
