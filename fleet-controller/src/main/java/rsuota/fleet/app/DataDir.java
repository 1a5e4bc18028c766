package rsuota.fleet.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.auth.Tokens;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.PostgresDatabase;
import rsuota.fleet.store.SqliteDatabase;
import rsuota.fleet.store.StoreSpec;
import rsuota.fleet.store.Table;

/**
 * The controller's data directory:
 * <pre>
 *   DIR/fleet.db       the SQLite store (with fleet.db-wal and fleet.db-shm beside it while running)
 *   DIR/artifacts/     bundles served at /artifacts/
 *   DIR/keyring.pem    the fleet's trust anchors (root certificates) that release bundles must chain to
 * </pre>
 * With a PostgreSQL store ({@code --db postgresql://...}) the store lives in that database instead of
 * DIR/fleet.db; artifacts, keyring and checkpoints stay in DIR.
 */
public record DataDir(Path root, StoreSpec storeSpec) {
    /** Label of the token {@link #init} prints. */
    public static final String INITIAL_ADMIN_LABEL = "initial-admin";

    /** The default: the SQLite store DIR/fleet.db. */
    public DataDir(Path root) {
        this(root, new StoreSpec.Sqlite(root.resolve("fleet.db")));
    }

    /** Names the store in logs: the SQLite file or the PostgreSQL URL (without password). */
    public String describeStore() {
        return storeSpec.describe();
    }

    /**
     * Opens the store of an initialised data directory (applying pending migrations).
     *
     * @throws StartupException when there is no store yet (naming the init command) or it cannot be opened
     */
    public Database openStore(Clock clock) throws StartupException {
        try {
            if (storeSpec instanceof StoreSpec.Postgres pg) {
                if (PostgresDatabase.probeVersion(pg.location(), pg.password()) == 0) {
                    throw new StartupException(pg.location() + " holds no controller store: run 'fleet-controller init --data-dir " + root
                            + " --db " + pg.location() + "' first");
                }
            } else if (!initialised()) {
                throw new StartupException(root + " holds no controller store: run 'fleet-controller init --data-dir " + root + "' first");
            }
            return storeSpec.open(clock);
        } catch (FleetException e) {
            throw new StartupException(e.getMessage(), e);
        }
    }

    public Path store() {
        return root.resolve("fleet.db");
    }

    public Path artifacts() {
        return root.resolve("artifacts");
    }

    public Path keyring() {
        return root.resolve("keyring.pem");
    }

    public boolean initialised() {
        return Files.exists(store());
    }

    /**
     * Creates the store and the first admin token, and returns the token's secret (shown once).
     * The store is built under a temporary name and renamed into place only when complete, so a
     * failed init leaves no store behind that would block the next attempt.
     *
     * @param keyring optional keyring file copied to DIR/keyring.pem
     */
    public String init(Path keyring, Clock clock) throws StartupException {
        if (storeSpec instanceof StoreSpec.Postgres) return initPostgres(keyring, clock);
        if (initialised()) {
            throw new StartupException(root + " already holds a controller store (" + store().getFileName()
                    + "): refusing to initialise it again. Its admin token was printed when it was created; "
                    + "issue more with 'fleetctl token create', or pick an empty directory");
        }
        Path tmp = root.resolve("fleet.db.init");
        try {
            Files.createDirectories(artifacts());
            deleteStore(tmp);
            String secret;
            try (SqliteDatabase db = SqliteDatabase.open(tmp, clock)) {
                Tokens tokens = new Tokens(db, new AuditLog(clock));
                secret = db.write(tx -> tokens.issue(tx, Principal.system("init"), Role.ADMIN, INITIAL_ADMIN_LABEL,
                        "controller initialised")).secret();
            }
            if (keyring != null) Files.copy(keyring, keyring(), StandardCopyOption.REPLACE_EXISTING);
            // Closing the last connection checkpointed the WAL into the main file, so the main file is the whole store.
            Files.move(tmp, store(), StandardCopyOption.ATOMIC_MOVE);
            return secret;
        } catch (IOException e) {
            throw new StartupException("cannot initialise " + root + ": " + e, e);
        } catch (FleetException e) {
            throw new StartupException("cannot initialise " + root + ": " + e.getMessage(), e);
        } finally {
            try {
                deleteStore(tmp);
            } catch (IOException e) {
                // Leftovers carry a temporary name and are removed by the next init; nothing to do now.
            }
        }
    }

    private String initPostgres(Path keyring, Clock clock) throws StartupException {
        try {
            Files.createDirectories(artifacts());
            String secret;
            try (Database db = storeSpec.open(clock)) {
                Tokens tokens = new Tokens(db, new AuditLog(clock));
                // One transaction: the emptiness check and the first token, so two inits at once cannot both succeed.
                secret = db.write(tx -> {
                    if (tx.count(Table.TOKENS) > 0 || tx.count(Table.AUDIT) > 0) return null;
                    return tokens.issue(tx, Principal.system("init"), Role.ADMIN, INITIAL_ADMIN_LABEL, "controller initialised").secret();
                });
            }
            if (secret == null) {
                throw new StartupException(describeStore() + " already holds a controller store: refusing to initialise it again. "
                        + "Its admin token was printed when it was created; issue more with 'fleetctl token create', or name an empty database");
            }
            if (keyring != null) Files.copy(keyring, keyring(), StandardCopyOption.REPLACE_EXISTING);
            return secret;
        } catch (IOException e) {
            throw new StartupException("cannot initialise " + root + ": " + e, e);
        } catch (FleetException e) {
            throw new StartupException("cannot initialise " + describeStore() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Break-glass: a new admin token issued by someone who can write this data directory (root or
     * the controller's service user on its host), for when every admin token expired or was revoked.
     * Audited as token.create with the actor {@code local:USER}; the store may be in use by a
     * running controller (SQLite serialises the write).
     */
    public String issueAdmin(String label, String reason, String osUser, Clock clock) throws StartupException {
        try (Database db = openStore(clock)) {
            Tokens tokens = new Tokens(db, new AuditLog(clock));
            return tokens.create(new Principal("local:" + osUser, Role.ADMIN), Role.ADMIN, label, reason).secret();
        } catch (FleetException e) {
            throw new StartupException("cannot issue an admin token in " + root + ": " + e.getMessage(), e);
        }
    }

    /** Where the fleet's device CA lives when the controller manages it ({@code fleet-controller device-ca init}). */
    public Path deviceCa() {
        return root.resolve("device-ca");
    }

    /**
     * Records an action taken on the controller's host outside the API (the device CA's commands)
     * in the audit log, with the actor {@code local:USER}.
     */
    public void auditLocal(String osUser, String action, String target, String reason, java.util.Map<String, ?> detail, Clock clock)
            throws StartupException {
        try (Database db = openStore(clock)) {
            AuditLog audit = new AuditLog(clock);
            db.write(tx -> audit.append(tx, new Principal("local:" + osUser, Role.ADMIN), action, target, reason, detail));
        } catch (FleetException e) {
            throw new StartupException("cannot record " + action + " in the audit log of " + root + ": " + e.getMessage(), e);
        }
    }

    private static void deleteStore(Path db) throws IOException {
        Files.deleteIfExists(db);
        Files.deleteIfExists(Path.of(db + "-wal"));
        Files.deleteIfExists(Path.of(db + "-shm"));
    }
}
