package rsuota.fleet.store;

import rsuota.fleet.domain.FleetException;

/**
 * The controller's store. Work runs in transactions: {@link #write} commits everything the work
 * did or nothing, and writes are serialised so that the audit chain never forks. SQL failures
 * surface as {@link FleetException} with code STORE_BUSY (retry) or STORE_FAILURE.
 *
 * <p>The SQL in the repositories is portable (SQLite and PostgreSQL); only implementations of this
 * interface know their dialect.
 */
public interface Database extends AutoCloseable {

    /** Runs {@code work} in a read-write transaction. */
    <T> T write(TxWork<T> work) throws FleetException;

    /**
     * Runs telemetry ingest {@code work} (per-device rows: snapshots, events, KPI samples) in a
     * read-write transaction that may run beside other writers (PostgreSQL: without the store-wide
     * lock, so replicas ingest in parallel). Work that reaches a write needing the order (an audit
     * append, an application id, a unit in a dispatched rollout: {@link WriteOrder#require}) is rolled
     * back and run again as an ordinary {@link #write}, so {@code work} must be safe to run twice
     * (collect side effects and apply them after the call). By default the same as {@link #write}.
     */
    default <T> T ingest(TxWork<T> work) throws FleetException {
        return write(work);
    }

    /**
     * Runs {@code work}, which writes only rows it locks itself first ({@link WriteOrder#beside} is true inside it; the
     * leader lease's one row), in a read-write transaction outside the store-wide write order (PostgreSQL), so that a
     * long ordered write elsewhere (a 100,000-unit rollout being created) does not hold it up. {@code work} must not need
     * the order ({@link WriteOrder#require} fails it). By default the same as {@link #write}.
     */
    default <T> T ownRows(TxWork<T> work) throws FleetException {
        return write(work);
    }

    /**
     * Tells the store that {@code tables} just took many rows at once (a wave's units queued, its orders written):
     * PostgreSQL refreshes its planner statistics (ANALYZE), at most every {@code 30 s} per table, so the next
     * queries do not run on the plan of an empty table (a 100,000-unit wave's engine ticks had taken 6 s each, every
     * read of 500 rows a scan, until autovacuum analysed the table). Outside any transaction; a failure is logged,
     * never thrown. Nothing to do by default (SQLite's planner uses the keys without statistics).
     */
    default void bulkChanged(Table... tables) {}

    /** Runs {@code work} in a read transaction (a consistent snapshot; writes are not expected). */
    <T> T read(TxWork<T> work) throws FleetException;

    /** The highest migration applied to this store. */
    int schemaVersion() throws FleetException;

    @Override
    void close();
}
