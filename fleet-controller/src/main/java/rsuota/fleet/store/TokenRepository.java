package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import rsuota.fleet.domain.Role;
import rsuota.fleet.domain.TokenInfo;

/** API tokens. Only the SHA-256 of a secret is stored; the secret itself is shown once at creation. */
public final class TokenRepository {
    private final Connection c;

    TokenRepository(Connection c) {
        this.c = c;
    }

    private static final String COLUMNS = "id, label, role, created_at, created_by, expires_at, last_used_at, revoked_at, revoked_by";

    public TokenInfo insert(String secretHash, Role role, String label, Instant at, String by, Instant expiresAt) throws SQLException {
        long id = Sql.nextId(c, Table.TOKENS, "id");
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO tokens (id, hash, role, label, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, id);
            ps.setString(2, secretHash);
            ps.setString(3, role.wire());
            ps.setString(4, label);
            Sql.setMillis(ps, 5, at);
            ps.setString(6, by);
            Sql.setMillis(ps, 7, expiresAt);
            ps.executeUpdate();
        }
        return new TokenInfo(id, label, role, at, by, expiresAt, null, null, null);
    }

    /**
     * A new secret for an unrevoked token, in place: same id, label and role (the audit log's actor
     * stays the same), a new creation time and expiry; the old secret stops working with this
     * transaction. False when the token does not exist or is revoked.
     */
    public boolean rotate(long id, String secretHash, Instant at, String by, Instant expiresAt) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE tokens SET hash = ?, created_at = ?, created_by = ?, expires_at = ?, last_used_at = NULL WHERE id = ? AND revoked_at IS NULL")) {
            ps.setString(1, secretHash);
            Sql.setMillis(ps, 2, at);
            ps.setString(3, by);
            Sql.setMillis(ps, 4, expiresAt);
            ps.setLong(5, id);
            return ps.executeUpdate() == 1;
        }
    }

    /** Marks a token revoked; false when it does not exist or is revoked already. */
    public boolean revoke(long id, Instant at, String by) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL")) {
            Sql.setMillis(ps, 1, at);
            ps.setString(2, by);
            ps.setLong(3, id);
            return ps.executeUpdate() == 1;
        }
    }

    /** Records a use (callers write it at most once a minute per token, not on every request). */
    public void touch(long id, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE tokens SET last_used_at = ? WHERE id = ?")) {
            Sql.setMillis(ps, 1, at);
            ps.setLong(2, id);
            ps.executeUpdate();
        }
    }

    public Optional<TokenInfo> find(long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM tokens WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    public Optional<TokenInfo> findByHash(String secretHash) throws SQLException {
        return one("SELECT " + COLUMNS + " FROM tokens WHERE hash = ?", secretHash);
    }

    public Optional<TokenInfo> findByLabel(String label) throws SQLException {
        return one("SELECT " + COLUMNS + " FROM tokens WHERE label = ?", label);
    }

    /** Up to {@code limit} tokens with an id above {@code afterId}, in id order. */
    public List<TokenInfo> page(long afterId, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM tokens WHERE id > ? ORDER BY id LIMIT ?")) {
            ps.setLong(1, afterId);
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<TokenInfo> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        }
    }

    public List<TokenInfo> list() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM tokens ORDER BY id");
             ResultSet rs = ps.executeQuery()) {
            List<TokenInfo> out = new ArrayList<>();
            while (rs.next()) out.add(row(rs));
            return out;
        }
    }

    private Optional<TokenInfo> one(String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    private static TokenInfo row(ResultSet rs) throws SQLException {
        Role role = Role.parse(rs.getString("role"))
                .orElseThrow(() -> new SQLException("tokens.role holds an unknown role"));
        return new TokenInfo(rs.getLong("id"), rs.getString("label"), role, Sql.instant(rs, "created_at"), rs.getString("created_by"),
                nullable(rs, "expires_at"), nullable(rs, "last_used_at"), nullable(rs, "revoked_at"), rs.getString("revoked_by"));
    }

    private static Instant nullable(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }
}
