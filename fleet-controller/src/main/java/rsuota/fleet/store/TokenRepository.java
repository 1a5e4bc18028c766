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

    public TokenInfo insert(String secretHash, Role role, String label, Instant at, String by) throws SQLException {
        long id = Sql.nextId(c, Table.TOKENS, "id");
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO tokens (id, hash, role, label, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, id);
            ps.setString(2, secretHash);
            ps.setString(3, role.wire());
            ps.setString(4, label);
            Sql.setMillis(ps, 5, at);
            ps.setString(6, by);
            ps.executeUpdate();
        }
        return new TokenInfo(id, label, role, at, by);
    }

    public Optional<TokenInfo> findByHash(String secretHash) throws SQLException {
        return one("SELECT id, label, role, created_at, created_by FROM tokens WHERE hash = ?", secretHash);
    }

    public Optional<TokenInfo> findByLabel(String label) throws SQLException {
        return one("SELECT id, label, role, created_at, created_by FROM tokens WHERE label = ?", label);
    }

    public List<TokenInfo> list() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id, label, role, created_at, created_by FROM tokens ORDER BY id");
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
        return new TokenInfo(rs.getLong("id"), rs.getString("label"), role, Sql.instant(rs, "created_at"), rs.getString("created_by"));
    }
}
