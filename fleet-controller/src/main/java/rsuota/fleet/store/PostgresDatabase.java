package rsuota.fleet.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;

/**
 * The store on PostgreSQL, for sites that operate one and for several controller replicas on one store.
 *
 * <p>Every write transaction first takes one transaction-scoped advisory lock ({@link #WRITE_LOCK}),
 * so writes are serialised across every replica exactly as SQLite serialises them in one process
 * (telemetry ingest takes it shared and runs in parallel: {@link #ingest}): the
 * repositories' application-assigned ids (MAX + 1) never collide and the audit chain never forks,
 * whichever replica appends. Reads run in REPEATABLE READ read-only transactions (a consistent
 * snapshot) beside the writers. Migrations run under a session advisory lock of their own, so
 * replicas starting together migrate once.
 *
 * <p>A lost server (restart, failover) surfaces as STORE_BUSY (retry): the pool validates and replaces
 * broken connections, and the next transaction after the server is back succeeds.
 */
public final class PostgresDatabase implements Database {
    /** Advisory lock key serialising writers (any fixed 64-bit number unique to this schema). */
    static final long WRITE_LOCK = 0x7273756f74610001L;
    /** Advisory lock key held while migrating. */
    static final long MIGRATE_LOCK = 0x7273756f74610002L;
    /** How long a caller waits for a pooled connection (or a new one to an unreachable server). */
    static final long CONNECT_TIMEOUT_MS = 3_000;
    /** How long a writer waits for another replica's write lock before STORE_BUSY. */
    static final int LOCK_TIMEOUT_MS = 5_000;
    static final int POOL_SIZE = 8;
    /** An ordered write holding the order longer than this is logged with its caller: ingest and the other writers waited for it. */
    static final long SLOW_ORDERED_MS = 1_000;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PostgresDatabase.class);

    private static final Migrator.TxControl PLAIN = new Migrator.TxControl() {
        public void begin(Connection c) throws SQLException {
            c.setAutoCommit(false);
        }

        public void commit(Connection c) throws SQLException {
            c.commit();
            c.setAutoCommit(true);
        }

        public void rollback(Connection c) throws SQLException {
            c.rollback();
            c.setAutoCommit(true);
        }
    };

    /** Statistics are refreshed at most this often per table ({@link #bulkChanged}). */
    static final java.time.Duration ANALYZE_EVERY = java.time.Duration.ofSeconds(30);
    private final PostgresLocation location;
    private final Map<Table, java.time.Instant> analyzed = new java.util.concurrent.ConcurrentHashMap<>();
    private final Clock clock;
    private final HikariDataSource pool;

    private PostgresDatabase(PostgresLocation location, HikariDataSource pool, Clock clock) {
        this.location = location;
        this.pool = pool;
        this.clock = clock;
    }

    /** Connects to the store at {@code location} and applies pending migrations. */
    public static PostgresDatabase open(PostgresLocation location, String password, Clock clock) throws FleetException {
        return open(location, password, clock, Migrations.ALL);
    }

    /** As {@link #open(PostgresLocation, String, Clock)} with an explicit migration list (an older build, tests). */
    public static PostgresDatabase open(PostgresLocation location, String password, Clock clock, List<Migration> migrations)
            throws FleetException {
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(location.jdbcUrl());
        cfg.setUsername(location.user());
        if (password != null) cfg.setPassword(password);
        cfg.setMaximumPoolSize(POOL_SIZE);
        cfg.setMinimumIdle(1);
        cfg.setConnectionTimeout(CONNECT_TIMEOUT_MS);
        cfg.setValidationTimeout(2_000);
        cfg.setPoolName("store-" + location.database());
        // One attempt at start: a wrong password or an unreachable server is reported at once, not after a wait.
        cfg.setInitializationFailTimeout(1);
        cfg.addDataSourceProperty("connectTimeout", "5");
        cfg.addDataSourceProperty("socketTimeout", "60");
        cfg.addDataSourceProperty("ApplicationName", "rsu-fleet-controller");
        cfg.addDataSourceProperty("tcpKeepAlive", "true");
        HikariDataSource ds;
        try {
            ds = new HikariDataSource(cfg);
        } catch (HikariPool.PoolInitializationException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new FleetException(ErrorCode.STORE_FAILURE, "cannot connect to the store " + location + ": " + cause.getMessage()
                    + " (check the URL, that the server runs, and the password from --db-password-file or PGPASSWORD)", Map.of(), e);
        }
        PostgresDatabase db = new PostgresDatabase(location, ds, clock);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(true);
            exec(c, "SELECT pg_advisory_lock(" + MIGRATE_LOCK + ")");
            try {
                Migrator.migrate(c, PLAIN, migrations, clock);
            } finally {
                exec(c, "SELECT pg_advisory_unlock(" + MIGRATE_LOCK + ")");
            }
        } catch (SQLException e) {
            db.close();
            throw db.classify(e, "cannot migrate the store");
        } catch (FleetException | RuntimeException e) {
            db.close();
            throw e;
        }
        return db;
    }

    /**
     * The schema version of the store at {@code location} without migrating it: 0 when the database
     * holds no controller store yet.
     */
    public static int probeVersion(PostgresLocation location, String password) throws FleetException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", location.user());
        if (password != null) p.setProperty("password", password);
        p.setProperty("connectTimeout", "5");
        try (Connection c = java.sql.DriverManager.getConnection(location.jdbcUrl(), p);
             Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT to_regclass('schema_version') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) return 0;
            try (var v = st.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
                v.next();
                return v.getInt(1);
            }
        } catch (SQLException e) {
            throw new FleetException(ErrorCode.STORE_FAILURE, "cannot connect to the store " + location + ": " + e.getMessage()
                    + " (check the URL, that the server runs, and the password from --db-password-file or PGPASSWORD)", Map.of(), e);
        }
    }

    public PostgresLocation location() {
        return location;
    }

    @Override
    public <T> T write(TxWork<T> work) throws FleetException {
        return inTransaction(Mode.ORDERED, work);
    }

    /**
     * Ingest under the write lock taken shared: ingest transactions (on every replica) run at the same
     * time, while an ordered writer (engine tick, operator call, audit append) still runs alone, so it
     * never sees half of a report. Ingest transactions among themselves are made safe by keys and row
     * locks (ON CONFLICT, the device's link row and rollout rows locked before they are read). If the
     * work needs the write order ({@link WriteOrder#require}) it is rolled back and run again under the
     * exclusive lock.
     */
    @Override
    public <T> T ingest(TxWork<T> work) throws FleetException {
        try {
            return inTransaction(Mode.UNORDERED, work);
        } catch (WriteOrder.Needed e) {
            return write(work);
        }
    }

    @Override
    public void bulkChanged(Table... tables) {
        java.time.Instant now = clock.instant();
        for (Table t : tables) {
            java.time.Instant last = analyzed.get(t);
            if (last != null && now.isBefore(last.plus(ANALYZE_EVERY))) continue;
            analyzed.put(t, now);
            try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
                st.execute("ANALYZE " + t.sqlName());
            } catch (SQLException | RuntimeException e) {
                log.warn("could not refresh the planner statistics of {} ({}); autovacuum will", t.sqlName(), e.getMessage());
            }
        }
    }

    /** Without the advisory lock at all: the work locks its own rows (SELECT ... FOR UPDATE) before it reads them. */
    @Override
    public <T> T ownRows(TxWork<T> work) throws FleetException {
        try {
            return inTransaction(Mode.OWN_ROWS, work);
        } catch (WriteOrder.Needed e) {
            throw new IllegalStateException("work outside the write order needs it: " + e.getMessage(), e);
        }
    }

    @Override
    public <T> T read(TxWork<T> work) throws FleetException {
        return inTransaction(Mode.READ, work);
    }

    @Override
    public int schemaVersion() throws FleetException {
        return read(tx -> {
            try (Statement st = tx.connection().createStatement(); var rs = st.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
                rs.next();
                return rs.getInt(1);
            }
        });
    }

    @Override
    public void close() {
        pool.close();
    }

    private enum Mode { READ, ORDERED, UNORDERED, OWN_ROWS }

    private <T> T inTransaction(Mode mode, TxWork<T> work) throws FleetException {
        boolean readOnly = mode == Mode.READ;
        if (pool.isClosed()) throw new IllegalStateException("store " + location + " is closed");
        Connection c;
        try {
            c = pool.getConnection();
        } catch (SQLException e) {
            throw classify(e, "cannot get a store connection");
        }
        try {
            try {
                c.setAutoCommit(false);
                c.setTransactionIsolation(readOnly ? Connection.TRANSACTION_REPEATABLE_READ : Connection.TRANSACTION_READ_COMMITTED);
                c.setReadOnly(readOnly);
                if (!readOnly) exec(c, "SET LOCAL lock_timeout = " + LOCK_TIMEOUT_MS);
                if (mode == Mode.ORDERED) exec(c, "SELECT pg_advisory_xact_lock(" + WRITE_LOCK + ")");
                // Ingest shares the lock: ingest transactions run together, ordered writers wait for them and they for an
                // ordered writer (PostgreSQL queues a shared request behind a waiting exclusive one: no writer starves).
                if (mode == Mode.UNORDERED) exec(c, "SELECT pg_advisory_xact_lock_shared(" + WRITE_LOCK + ")");
            } catch (SQLException e) {
                rollback(c, e);
                throw classify(e, "cannot begin a transaction");
            }
            if (mode == Mode.UNORDERED || mode == Mode.OWN_ROWS) WriteOrder.enterUnordered();
            long held = System.nanoTime();
            try {
                T result = work.run(new Tx(c));
                c.commit();
                if (mode == Mode.ORDERED) logIfSlow((System.nanoTime() - held) / 1_000_000);
                return result;
            } catch (SQLException e) {
                rollback(c, e);
                throw classify(e, "store operation failed");
            } catch (FleetException | RuntimeException | Error e) {
                rollback(c, e);
                throw e;
            } finally {
                if (mode == Mode.UNORDERED || mode == Mode.OWN_ROWS) WriteOrder.leaveUnordered();
            }
        } finally {
            giveBack(c);
        }
    }

    /** Frames the caller of a write is found beneath. */
    private static final java.util.Set<String> WRAPPERS = java.util.Set.of(PostgresDatabase.class.getName(), Database.class.getName(),
            "rsuota.fleet.lead.FencedDatabase");

    private static void logIfSlow(long ms) {
        if (ms < SLOW_ORDERED_MS) return;
        String caller = StackWalker.getInstance().walk(frames -> frames
                .filter(f -> !WRAPPERS.contains(f.getClassName()))
                .findFirst().map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName()).orElse("?"));
        log.warn("a write by {} held the store-wide write order for {} ms; telemetry ingest and other writers waited for it", caller, ms);
    }

    private static void giveBack(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            // Hikari evicts a connection it cannot reset; the transaction's outcome is already settled.
        }
    }

    private static void rollback(Connection c, Throwable cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    FleetException classify(SQLException e, String what) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        boolean transientFault = e instanceof SQLTransientConnectionException
                || state.startsWith("08") // connection exception
                || state.equals("57P01") || state.equals("57P02") || state.equals("57P03") // shutdown, starting up
                || state.equals("40001") || state.equals("40P01") // serialization failure, deadlock
                || state.equals("55P03"); // lock not available (lock_timeout)
        if (transientFault) {
            return new FleetException(ErrorCode.STORE_BUSY, what + ": store " + location + " is unavailable or busy (" + e.getMessage()
                    + "); retry", Map.of(), e);
        }
        return new FleetException(ErrorCode.STORE_FAILURE, what + " (" + location + "): " + e.getMessage(), Map.of(), e);
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
