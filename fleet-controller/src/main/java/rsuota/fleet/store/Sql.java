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

    /** One row of a result, as {@link #eachIn} hands it over. */
    @FunctionalInterface
    public interface RowSink {
        void row(ResultSet rs) throws SQLException;
    }

    /** Ids per {@code IN (...)} list: a batch of units costs one round trip per part, far below every engine's parameter limit. */
    static final int IN_PART = 500;

    /**
     * Runs {@code select}, whose one {@code %s} is the body of an {@code IN (...)} list, for every id in {@code ids}: one
     * query per {@value #IN_PART} ids, each row handed to {@code sink} (a dispatch batch reads its units in a few round trips).
     */
    public static void eachIn(Connection c, String select, java.util.Collection<String> ids, RowSink sink) throws SQLException {
        java.util.List<String> all = new java.util.ArrayList<>(ids);
        for (int from = 0; from < all.size(); from += IN_PART) {
            java.util.List<String> part = all.subList(from, Math.min(all.size(), from + IN_PART));
            String marks = String.join(",", java.util.Collections.nCopies(part.size(), "?"));
            try (PreparedStatement ps = c.prepareStatement(String.format(select, marks))) {
                for (int i = 0; i < part.size(); i++) ps.setString(i + 1, part.get(i));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) sink.row(rs);
                }
            }
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

    /** By position: on rows read by the hundred thousand a lookup by name (a map per call on PostgreSQL) is most of the read. */
    public static Instant instant(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }

    public static Long longOrNull(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
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
