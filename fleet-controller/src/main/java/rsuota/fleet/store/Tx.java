package rsuota.fleet.store;

import java.sql.Connection;

/**
 * One open transaction and the repositories that work inside it. Repositories are cheap views
 * over the connection; they never commit or roll back themselves.
 */
public final class Tx {
    private final Connection connection;
    private final java.util.Map<Object, Object> memo = new java.util.HashMap<>();

    Tx(Connection connection) {
        this.connection = connection;
    }

    /** A value read once per transaction (e.g. the leader lease's token for every order a dispatch writes). */
    public interface TxValue<T> {
        T read() throws java.sql.SQLException;
    }

    /** {@code value} read on first use in this transaction and kept for the rest of it (null included). */
    @SuppressWarnings("unchecked")
    public <T> T once(Object key, TxValue<T> value) throws java.sql.SQLException {
        if (!memo.containsKey(key)) memo.put(key, value.read());
        return (T) memo.get(key);
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
