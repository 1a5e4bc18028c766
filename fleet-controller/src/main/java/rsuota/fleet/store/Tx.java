package rsuota.fleet.store;

import java.sql.Connection;

/**
 * One open transaction and the repositories that work inside it. Repositories are cheap views
 * over the connection; they never commit or roll back themselves.
 */
public final class Tx {
    private final Connection connection;
    private Long fencingToken;
    private boolean fencingTokenRead;

    Tx(Connection connection) {
        this.connection = connection;
    }

    /**
     * The leader lease's fencing token as this transaction sees it (read once per transaction), or null when no
     * replica ever led on this store (a sole controller: SQLite). Writes are serialised store-wide, so the token is
     * the one in force when the transaction commits; a leader's fenced transaction has already checked it is its own.
     */
    public Long fencingToken() throws java.sql.SQLException {
        if (!fencingTokenRead) {
            try (var ps = connection.prepareStatement("SELECT token FROM leader_lease WHERE name = 'engine'"); var rs = ps.executeQuery()) {
                fencingToken = rs.next() ? rs.getLong(1) : null;
            }
            fencingTokenRead = true;
        }
        return fencingToken;
    }

    /** For repositories added in other packages (rollouts, pause events): same connection, same transaction. */
    public Connection connection() {
        return connection;
    }

    public DeviceRepository devices() {
        return new DeviceRepository(connection);
    }

    public KpiSampleRepository kpiSamples() {
        return new KpiSampleRepository(connection);
    }

    public ReleaseRepository releases() {
        return new ReleaseRepository(connection);
    }

    public CohortRepository cohorts() {
        return new CohortRepository(connection);
    }

    public TokenRepository tokens() {
        return new TokenRepository(connection);
    }

    public IncidentRepository incidents() {
        return new IncidentRepository(connection);
    }

    /** The audit chain; in ingest work outside the write order, reaching it reruns the work inside the order. */
    public AuditRepository audit() {
        WriteOrder.require("the audit chain");
        return new AuditRepository(connection);
    }

    public DeviceEventRepository events() {
        return new DeviceEventRepository(connection);
    }

    public DesiredStateRepository desired() {
        return new DesiredStateRepository(connection);
    }

    public CommandRepository commands() {
        return new CommandRepository(connection);
    }

    /** Row count of one of the store's tables (metrics, tests). */
    public long count(Table table) throws java.sql.SQLException {
        try (var st = connection.createStatement(); var rs = st.executeQuery("SELECT COUNT(*) FROM " + table.sqlName())) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
