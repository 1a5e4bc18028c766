package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;

/**
 * Copies every row of one store into another, empty one of the same schema version (a site moving
 * from SQLite to PostgreSQL): one read snapshot of the source, one write transaction on the target,
 * so the copy is whole or absent. Audit rows keep their sequence numbers and hashes, so the chain
 * verifies on the copy exactly as on the original.
 */
public final class StoreCopy {
    private static final int BATCH = 500;

    private StoreCopy() {}

    /**
     * @return rows copied per table
     * @throws FleetException INVALID_REQUEST when the schema versions differ or the target holds data
     *                        (nothing is written), STORE_* when a store fails (the target is rolled back)
     */
    public static Map<Table, Long> copy(Database from, Database to) throws FleetException {
        int vFrom = from.schemaVersion();
        int vTo = to.schemaVersion();
        if (vFrom != vTo) {
            throw new FleetException(ErrorCode.INVALID_REQUEST, "the source store is at schema version " + vFrom + " and the target at "
                    + vTo + ": open both with the same controller build first");
        }
        return from.read(src -> to.write(dst -> {
            for (Table t : Table.values()) {
                long n = dst.count(t);
                if (n > 0) {
                    throw new FleetException(ErrorCode.INVALID_REQUEST, "the target store is not empty (" + t.sqlName() + " holds " + n
                            + " rows): migrate-store copies only into a freshly created database; nothing was written");
                }
            }
            Map<Table, Long> copied = new EnumMap<>(Table.class);
            // Table's order is the foreign keys' order (parents first); releases refer to each other, so
            // their previous_stable links are set once every release exists.
            for (Table t : Table.values()) copied.put(t, copyTable(src.connection(), dst.connection(), t));
            relinkReleases(src.connection(), dst.connection());
            for (Table t : Table.values()) {
                long n = dst.count(t);
                if (n != copied.get(t)) {
                    throw new FleetException(ErrorCode.STORE_FAILURE, t.sqlName() + ": copied " + copied.get(t) + " rows but the target holds " + n);
                }
            }
            return copied;
        }));
    }

    private static long copyTable(Connection src, Connection dst, Table t) throws SQLException {
        List<String> columns = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        try (Statement st = dst.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + t.sqlName() + " WHERE 1 = 0")) {
            ResultSetMetaData md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                columns.add(md.getColumnName(i).toLowerCase(java.util.Locale.ROOT));
                types.add(md.getColumnType(i));
            }
        }
        String cols = String.join(", ", columns);
        String marks = String.join(", ", java.util.Collections.nCopies(columns.size(), "?"));
        long n = 0;
        try (Statement st = src.createStatement();
             ResultSet rs = st.executeQuery("SELECT " + cols + " FROM " + t.sqlName());
             PreparedStatement ins = dst.prepareStatement("INSERT INTO " + t.sqlName() + " (" + cols + ") VALUES (" + marks + ")")) {
            while (rs.next()) {
                for (int i = 0; i < columns.size(); i++) {
                    boolean deferredLink = t == Table.RELEASES && columns.get(i).equals("previous_stable");
                    set(ins, i + 1, types.get(i), rs, i + 1, deferredLink);
                }
                ins.addBatch();
                if (++n % BATCH == 0) ins.executeBatch();
            }
            ins.executeBatch();
        }
        return n;
    }

    private static void set(PreparedStatement ps, int i, int type, ResultSet rs, int col, boolean forceNull) throws SQLException {
        Object v = rs.getObject(col);
        if (v == null || forceNull) {
            ps.setNull(i, Types.NULL);
            return;
        }
        switch (type) {
            case Types.BIGINT, Types.INTEGER, Types.SMALLINT -> ps.setLong(i, rs.getLong(col));
            case Types.DOUBLE, Types.REAL, Types.FLOAT, Types.NUMERIC, Types.DECIMAL -> ps.setDouble(i, rs.getDouble(col));
            case Types.BOOLEAN, Types.BIT -> ps.setBoolean(i, rs.getBoolean(col));
            default -> ps.setString(i, rs.getString(col));
        }
    }

    private static void relinkReleases(Connection src, Connection dst) throws SQLException {
        try (Statement st = src.createStatement();
             ResultSet rs = st.executeQuery("SELECT version, previous_stable FROM releases WHERE previous_stable IS NOT NULL");
             PreparedStatement up = dst.prepareStatement("UPDATE releases SET previous_stable = ? WHERE version = ?")) {
            while (rs.next()) {
                up.setString(1, rs.getString(2));
                up.setString(2, rs.getString(1));
                up.addBatch();
            }
            up.executeBatch();
        }
    }
}
