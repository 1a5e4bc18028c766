package rsuota.fleet.store;

import java.sql.Connection;

/**
 * One open transaction and the repositories that work inside it. Repositories are cheap views
 * over the connection; they never commit or roll back themselves.
 */
public final class Tx {
    private final Connection connection;

    Tx(Connection connection) {
        this.connection = connection;
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
