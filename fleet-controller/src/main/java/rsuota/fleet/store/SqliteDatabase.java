package rsuota.fleet.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;

/**
 * The default store: one SQLite file in WAL mode.
 *
 * <p>Writes go through one connection under an in-process lock and open with
 * {@code BEGIN IMMEDIATE}: a deferred transaction that reads first and writes later can fail at
 * once with SQLITE_BUSY when another connection committed in between (busy_timeout does not help
 * there), while an immediate one takes the write lock up front and waits up to the busy timeout.
 * Reads use a small pool of their own connections; WAL lets them run beside the writer.
 */
public final class SqliteDatabase implements Database {
    private static final Logger log = LoggerFactory.getLogger(SqliteDatabase.class);

    /** How long a writer waits for another process's write lock before STORE_BUSY (init, a second tool). */
    static final int BUSY_TIMEOUT_MS = 5_000;
    /** Idle read connections kept open; more may exist briefly under load and are closed on return. */
    private static final int READ_POOL = 4;

    private static final Migrator.TxControl IMMEDIATE = new Migrator.TxControl() {
        public void begin(Connection c) throws SQLException {
            exec(c, "BEGIN IMMEDIATE");
        }

        public void commit(Connection c) throws SQLException {
            exec(c, "COMMIT");
        }

        public void rollback(Connection c) throws SQLException {
            exec(c, "ROLLBACK");
        }
    };

    private final Path file;
    private final String url;
    private final Connection writer;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final BlockingQueue<Connection> idleReaders = new ArrayBlockingQueue<>(READ_POOL);
    private volatile boolean closed;

    private SqliteDatabase(Path file, Connection writer) {
        this.file = file;
        this.url = "jdbc:sqlite:" + file;
        this.writer = writer;
    }

    /** Opens (creating if needed) the store at {@code file} and applies pending migrations. */
    public static SqliteDatabase open(Path file, Clock clock) throws FleetException {
        return open(file, clock, Migrations.ALL);
    }

    /** As {@link #open(Path, Clock)} with an explicit migration list (tests of the migrator). */
    public static SqliteDatabase open(Path file, Clock clock, List<Migration> migrations) throws FleetException {
        Connection w;
        try {
            w = connect("jdbc:sqlite:" + file);
        } catch (SQLException e) {
            throw new FleetException(ErrorCode.STORE_FAILURE, "cannot open store " + file + ": " + e.getMessage(), Map.of(), e);
        }
        SqliteDatabase db = new SqliteDatabase(file, w);
        try {
            Migrator.migrate(w, IMMEDIATE, migrations, clock);
        } catch (FleetException e) {
            db.close();
            throw e;
        }
        return db;
    }

    public Path file() {
        return file;
    }

    @Override
    public <T> T write(TxWork<T> work) throws FleetException {
        if (writeLock.isHeldByCurrentThread()) {
            // A nested BEGIN would fail inside SQLite; nesting is a programming error, so say where.
            throw new IllegalStateException("write transaction opened inside another write transaction");
        }
        writeLock.lock();
        try {
            ensureOpen();
            return inTransaction(writer, "BEGIN IMMEDIATE", work);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public <T> T read(TxWork<T> work) throws FleetException {
        ensureOpen();
        Connection c = borrowReader();
        boolean healthy = false;
        try {
            T result = inTransaction(c, "BEGIN", work);
            healthy = true;
            return result;
        } finally {
            giveBack(c, healthy);
        }
    }

    @Override
    public int schemaVersion() throws FleetException {
        return read(tx -> Migrator.currentVersion(tx.connection()));
    }

    @Override
    public void close() {
        closed = true;
        writeLock.lock();
        try {
            closeQuietly(writer);
            Connection c;
            while ((c = idleReaders.poll()) != null) closeQuietly(c);
        } finally {
            writeLock.unlock();
        }
    }

    private <T> T inTransaction(Connection c, String begin, TxWork<T> work) throws FleetException {
        try {
            exec(c, begin);
        } catch (SQLException e) {
            throw classify(e, "cannot begin a transaction");
        }
        try {
            T result = work.run(new Tx(c));
            exec(c, "COMMIT");
            return result;
        } catch (SQLException e) {
            rollback(c, e);
            throw classify(e, "store operation failed");
        } catch (FleetException | RuntimeException | Error e) {
            rollback(c, e);
            throw e;
        }
    }

    private static void rollback(Connection c, Throwable cause) {
        try {
            exec(c, "ROLLBACK");
        } catch (SQLException e) {
            // SQLite ends the transaction by itself after some errors (e.g. SQLITE_FULL); the
            // ROLLBACK then reports "no transaction is active", which is the state we want.
            if (e.getMessage() == null || !e.getMessage().contains("no transaction is active")) cause.addSuppressed(e);
        }
    }

    private FleetException classify(SQLException e, String what) {
        if (e instanceof SQLiteException se) {
            SQLiteErrorCode rc = se.getResultCode();
            if (rc == SQLiteErrorCode.SQLITE_BUSY || rc == SQLiteErrorCode.SQLITE_LOCKED
                    || rc.name().startsWith("SQLITE_BUSY_") || rc.name().startsWith("SQLITE_LOCKED_")) {
                return new FleetException(ErrorCode.STORE_BUSY, what + ": store " + file + " is locked by another writer for more than "
                        + BUSY_TIMEOUT_MS + " ms; retry", Map.of(), e);
            }
        }
        return new FleetException(ErrorCode.STORE_FAILURE, what + " (" + file + "): " + e.getMessage(), Map.of(), e);
    }

    private Connection borrowReader() throws FleetException {
        Connection c = idleReaders.poll();
        if (c != null) return c;
        try {
            return connect(url);
        } catch (SQLException e) {
            throw classify(e, "cannot open a read connection");
        }
    }

    private void giveBack(Connection c, boolean healthy) {
        if (!healthy || closed || !idleReaders.offer(c)) closeQuietly(c);
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("store " + file + " is closed");
    }

    private static Connection connect(String url) throws SQLException {
        SQLiteConfig cfg = new SQLiteConfig();
        cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
        cfg.setBusyTimeout(BUSY_TIMEOUT_MS);
        cfg.enforceForeignKeys(true);
        // FULL: a committed audit entry or membership survives a power cut, not only a process crash
        // (NORMAL in WAL mode may lose the last transactions on power loss).
        cfg.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        return cfg.createConnection(url);
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            log.warn("closing a store connection failed: {}", e.getMessage());
        }
    }
}
