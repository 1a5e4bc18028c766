package rsuota.fleet.lead;

import rsuota.fleet.domain.FleetException;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.TxWork;

/**
 * The store as the leader's work sees it: every write transaction first checks the fencing token
 * ({@link Leadership#check}) and is refused with NOT_LEADER when this replica no longer holds the lease.
 */
public final class FencedDatabase implements Database {
    private final Database db;
    private final Leadership leadership;

    public FencedDatabase(Database db, Leadership leadership) {
        this.db = db;
        this.leadership = leadership;
    }

    @Override
    public <T> T write(TxWork<T> work) throws FleetException {
        return db.write(tx -> {
            leadership.check(tx);
            return work.run(tx);
        });
    }

    @Override
    public <T> T read(TxWork<T> work) throws FleetException {
        return db.read(work);
    }

    @Override
    public void bulkChanged(rsuota.fleet.store.Table... tables) {
        db.bulkChanged(tables);
    }

    @Override
    public int schemaVersion() throws FleetException {
        return db.schemaVersion();
    }

    /** The underlying store belongs to the controller, which closes it. */
    @Override
    public void close() {}
}
