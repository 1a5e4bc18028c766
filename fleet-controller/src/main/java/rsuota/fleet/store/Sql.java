package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;

/** JDBC conveniences shared by the repositories (also those of the rollout package). */
public final class Sql {
    private Sql() {}

    /** SQLSTATE class 23505 on PostgreSQL; SQLite reports result code 19 (SQLITE_CONSTRAINT) with a message naming the kind. */
    public static boolean isUniqueViolation(SQLException e) {
        if ("23505".equals(e.getSQLState())) return true;
        String m = e.getMessage();
        return e.getErrorCode() == 19 && m != null && (m.contains("UNIQUE") || m.contains("PRIMARY KEY"));
    }

    public static boolean isForeignKeyViolation(SQLException e) {
        if ("23503".equals(e.getSQLState())) return true;
        String m = e.getMessage();
        return e.getErrorCode() == 19 && m != null && m.contains("FOREIGN KEY");
    }

    /** Application-assigned ids (portable: no AUTOINCREMENT/SERIAL); callers hold the write transaction. */
    public static long nextId(Connection c, Table table, String column) throws SQLException {
        WriteOrder.require("an id in " + table.sqlName());
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(" + column + "), 0) + 1 FROM " + table.sqlName())) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public static void setText(PreparedStatement ps, int i, String v) throws SQLException {
        if (v == null) ps.setNull(i, Types.VARCHAR);
        else ps.setString(i, v);
    }

    public static void setMillis(PreparedStatement ps, int i, Instant v) throws SQLException {
        if (v == null) ps.setNull(i, Types.BIGINT);
        else ps.setLong(i, v.toEpochMilli());
    }

    public static void setInt(PreparedStatement ps, int i, Integer v) throws SQLException {
        if (v == null) ps.setNull(i, Types.INTEGER);
        else ps.setInt(i, v);
    }

    public static Instant instant(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }

    public static Integer integer(ResultSet rs, String column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? null : v;
    }

    public static Long longOrNull(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }

    public static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) ps.setNull(i, Types.BIGINT);
        else ps.setLong(i, v);
    }
}
