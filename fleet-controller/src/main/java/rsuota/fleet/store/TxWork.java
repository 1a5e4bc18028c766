package rsuota.fleet.store;

import java.sql.SQLException;
import rsuota.fleet.domain.FleetException;

/** Work done inside one transaction; a thrown exception rolls the whole transaction back. */
@FunctionalInterface
public interface TxWork<T> {
    T run(Tx tx) throws SQLException, FleetException;
}
