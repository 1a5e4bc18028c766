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

    /** Runs {@code work} in a read transaction (a consistent snapshot; writes are not expected). */
    <T> T read(TxWork<T> work) throws FleetException;

    /** The highest migration applied to this store. */
    int schemaVersion() throws FleetException;

    @Override
    void close();
}
