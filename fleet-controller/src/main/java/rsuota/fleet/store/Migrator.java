package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;

/**
 * Brings a store up to the newest migration. Each migration runs in its own transaction with the
 * schema_version row that records it, so the version always says exactly what was applied.
 */
public final class Migrator {
    private static final Logger log = LoggerFactory.getLogger(Migrator.class);

    /** How a dialect wraps statements in a transaction (SQLite needs BEGIN IMMEDIATE, see {@link SqliteDatabase}). */
    public interface TxControl {
        void begin(Connection c) throws SQLException;

        void commit(Connection c) throws SQLException;

        void rollback(Connection c) throws SQLException;
    }

    private Migrator() {}

    /** The highest applied version, 0 for an empty store. */
    public static int currentVersion(Connection c) throws SQLException {
        ensureVersionTable(c);
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT MAX(version) FROM schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * Applies every migration of {@code migrations} above the store's version, in order.
     *
     * @return the versions applied now (empty when the store was current)
     * @throws FleetException STORE_FAILURE when the store is newer than this build, or a migration fails
     *                        (that migration is rolled back; earlier ones stay applied)
     */
    public static List<Integer> migrate(Connection c, TxControl tx, List<Migration> migrations, Clock clock) throws FleetException {
        int latest = migrations.isEmpty() ? 0 : migrations.get(migrations.size() - 1).version();
        int current;
        try {
            current = currentVersion(c);
        } catch (SQLException e) {
            throw new FleetException(ErrorCode.STORE_FAILURE, "cannot read the store's schema version: " + e.getMessage(), java.util.Map.of(), e);
        }
        if (current > latest) {
            throw new FleetException(ErrorCode.STORE_FAILURE, "the store is at schema version " + current
                    + " but this controller knows only up to " + latest + ": run a newer controller (never downgrade a store)");
        }
        java.util.ArrayList<Integer> applied = new java.util.ArrayList<>();
        for (Migration m : migrations) {
            if (m.version() <= current) continue;
            try {
                tx.begin(c);
                try (Statement st = c.createStatement()) {
                    for (String sql : m.statements()) st.execute(sql);
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
                    ps.setInt(1, m.version());
                    ps.setString(2, m.description());
                    ps.setLong(3, clock.millis());
                    ps.executeUpdate();
                }
                tx.commit(c);
            } catch (SQLException e) {
                try {
                    tx.rollback(c);
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw new FleetException(ErrorCode.STORE_FAILURE, "migration " + m.version() + " (" + m.description()
                        + ") failed and was rolled back; the store stays at version " + current + ": " + e.getMessage(), java.util.Map.of(), e);
            }
            log.info("store migrated to schema version {} ({})", m.version(), m.description());
            applied.add(m.version());
            current = m.version();
        }
        return applied;
    }

    private static void ensureVersionTable(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)");
        }
    }
}
