package rsuota.fleet.rollout;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import rsuota.fleet.domain.Release;
import rsuota.fleet.lead.LeaderLease;
import rsuota.fleet.store.DesiredStateRepository;
import rsuota.fleet.store.Tx;
import rsuota.wire.Action;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.WireCodec;

/**
 * Writes desired states into the store, inside the caller's transaction, with the device's next
 * rev. Publishing happens after commit ({@code DesiredStatePublisher}); a crash in between only
 * delays it, and a re-publish carries the same rev, which the device ignores. With several replicas each
 * order carries the lease's fencing token ({@link #fencingToken}): a device refuses an order with a
 * lower token than one it accepted, so a deposed leader's late publish cannot replace a newer order.
 */
public final class DesiredWriter {
    private final Supplier<String> publicUrl;

    /** @param publicUrl the controller's URL as devices reach it, for bundle paths under /artifacts/ */
    public DesiredWriter(Supplier<String> publicUrl) {
        this.publicUrl = publicUrl;
    }

    /** Activation orders for {@code deviceIds}, written as one batch; returns each unit's new rev. */
    public Map<String, Long> activate(Tx tx, Rollout r, Release release, List<String> deviceIds, Instant now) throws SQLException {
        Instant after = r.settings().activateDelay() == null ? null : now.plus(r.settings().activateDelay());
        return write(tx, r, deviceIds, release.version(), url(release), release.manifestDigest(), Action.ACTIVATE, after, now);
    }

    /** Download-only: what a pause turns a not-yet-activated order into (downloads are harmless). */
    public Map<String, Long> hold(Tx tx, Rollout r, Release release, List<String> deviceIds, Instant now) throws SQLException {
        return write(tx, r, deviceIds, release.version(), url(release), release.manifestDigest(), Action.DOWNLOAD, null, now);
    }

    /** Back to {@code stableVersion}; its bundle is named when the controller knows that release. */
    public Map<String, Long> rollback(Tx tx, Rollout r, String stableVersion, Release stable, List<String> deviceIds, Instant now)
            throws SQLException {
        return write(tx, r, deviceIds, stableVersion, stable == null ? null : url(stable), stable == null ? null : stable.manifestDigest(),
                Action.ROLLBACK, null, now);
    }

    /** The same order for every unit of {@code deviceIds}, each with its own next rev: one read and one write batch per 500 units. */
    private Map<String, Long> write(Tx tx, Rollout r, List<String> deviceIds, String version, String url, String digest, Action action,
                                    Instant after, Instant now) throws SQLException {
        if (deviceIds.isEmpty()) return Map.of();
        Map<String, Long> next = tx.desired().nextRevs(deviceIds);
        Map<String, Long> revs = new LinkedHashMap<>();
        List<DesiredStateRepository.NewDesired> rows = new ArrayList<>();
        Long token = fencingToken(tx);
        for (String id : deviceIds) {
            long rev = next.get(id);
            MqttDesiredState d = new MqttDesiredState(MqttDesiredState.SCHEMA, rev, version, url, digest, action, after,
                    r.settings().window(), Long.toString(r.id()), now, r.settings().bandwidthCap(), token);
            rows.add(new DesiredStateRepository.NewDesired(id, rev, new String(WireCodec.encode(d), StandardCharsets.UTF_8), r.id()));
            revs.put(id, rev);
        }
        tx.desired().writeAll(rows, now);
        return revs;
    }

    /**
     * The leader lease's token as this transaction sees it (read once per transaction), or null when no replica ever
     * led on this store (a sole controller). Writes are serialised store-wide, so it is the token in force at commit;
     * a leader's fenced transaction has already checked that it is its own.
     */
    private static Long fencingToken(Tx tx) throws SQLException {
        return tx.once(LeaderLease.class, () -> LeaderLease.current(tx.connection()).map(LeaderLease.Lease::token).orElse(null));
    }

    private String url(Release r) {
        String u = r.bundleUrl();
        if (u.startsWith("/")) {
            String base = publicUrl.get();
            return URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + u;
        }
        return u;
    }
}
