package rsuota.fleet.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import rsuota.fleet.domain.Release;

/** Verified releases, keyed by version. */
public final class ReleaseRepository {
    private static final String COLUMNS = "version, bundle_url, manifest_digest, manifest, compatible, security_version, "
            + "previous_stable, notes, signer, created_at, created_by";

    private final Connection c;

    ReleaseRepository(Connection c) {
        this.c = c;
    }

    /** Inserts a release; a taken version fails with a unique violation (check {@link #find} first to say so nicely). */
    public void insert(Release r) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO releases (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, r.version());
            ps.setString(2, r.bundleUrl());
            ps.setString(3, r.manifestDigest());
            ps.setString(4, r.manifestJson());
            ps.setString(5, ColumnJson.strings(r.compatible()));
            ps.setLong(6, r.securityVersion());
            Sql.setText(ps, 7, r.previousStable());
            Sql.setText(ps, 8, r.notes());
            ps.setString(9, r.signer());
            Sql.setMillis(ps, 10, r.createdAt());
            ps.setString(11, r.createdBy());
            ps.executeUpdate();
        }
    }

    public Optional<Release> find(String version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM releases WHERE version = ?")) {
            ps.setString(1, version);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    /** Who withdrew a release, when and why. */
    public record Withdrawal(Instant at, String by, String reason) {}

    /** Marks a release withdrawn; false when it is withdrawn already (or does not exist). */
    public boolean withdraw(String version, Instant at, String by, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE releases SET withdrawn_at = ?, withdrawn_by = ?, withdraw_reason = ? WHERE version = ? AND withdrawn_at IS NULL")) {
            Sql.setMillis(ps, 1, at);
            ps.setString(2, by);
            ps.setString(3, reason);
            ps.setString(4, version);
            return ps.executeUpdate() == 1;
        }
    }

    public Optional<Withdrawal> withdrawal(String version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT withdrawn_at, withdrawn_by, withdraw_reason FROM releases WHERE version = ? AND withdrawn_at IS NOT NULL")) {
            ps.setString(1, version);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Withdrawal(Sql.instant(rs, "withdrawn_at"), rs.getString("withdrawn_by"), rs.getString("withdraw_reason")))
                        : Optional.empty();
            }
        }
    }

    /** All releases, oldest first. */
    public List<Release> list() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM releases ORDER BY created_at, version");
             ResultSet rs = ps.executeQuery()) {
            List<Release> out = new ArrayList<>();
            while (rs.next()) out.add(row(rs));
            return out;
        }
    }

    private static Release row(ResultSet rs) throws SQLException {
        return new Release(rs.getString("version"), rs.getString("bundle_url"), rs.getString("manifest_digest"),
                rs.getString("manifest"), ColumnJson.strings(rs.getString("compatible"), "releases.compatible"),
                rs.getLong("security_version"), rs.getString("previous_stable"), rs.getString("notes"),
                rs.getString("signer"), Sql.instant(rs, "created_at"), rs.getString("created_by"));
    }
}
