package rsuota.fleet.rollout;

import java.sql.SQLException;
import java.util.Map;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.policy.PauseEvent;
import rsuota.fleet.store.Tx;

/**
 * If-Match for rollout decisions: the ETag of a rollout's decision state, and the check that a
 * decision acts on the rollout as the caller read it, made inside the decision's own write
 * transaction so that two operators cannot overwrite each other's decision.
 */
final class DecisionGuard {
    /** The ETag a caller sent with a decision (If-Match), for the call running on this thread; null: none sent. */
    private final ThreadLocal<java.util.Set<String>> ifMatch = new ThreadLocal<>();

    /**
     * Runs a decision ({@code call}) only if the rollout is still as the caller saw it: {@code etag}
     * is the ETag of the status it read (null: no condition). Checked inside the decision's own write
     * transaction, so two operators cannot overwrite each other's decision: the second gets 412
     * PRECONDITION_FAILED and nothing changes.
     */
    <T> T ifMatch(String etag, Rollouts.Decision<T> call) throws FleetException {
        ifMatch.set(parseIfMatch(etag));
        try {
            return call.run();
        } finally {
            ifMatch.remove();
        }
    }

    /**
     * The tags of an If-Match header (RFC 9110: one or more quoted tags separated by commas, or *);
     * null for none or *, which any existing rollout matches. Quotes are optional (fleetctl users paste bare tags).
     */
    static java.util.Set<String> parseIfMatch(String header) {
        if (header == null || header.isBlank() || header.strip().equals("*")) return null;
        java.util.Set<String> tags = new java.util.LinkedHashSet<>();
        for (String t : header.split(",")) {
            String tag = t.strip().replace("\"", "");
            if (!tag.isEmpty()) tags.add(tag);
        }
        return tags.isEmpty() ? null : tags;
    }

    /** The rollout a decision acts on, refused with PRECONDITION_FAILED when it changed since the caller's ETag. */
    Rollout guarded(Tx tx, long id) throws SQLException, FleetException {
        Rollout r = new RolloutRepository(tx).find(id).orElseThrow(() -> FleetException.notFound("no rollout " + id));
        java.util.Set<String> expected = ifMatch.get();
        if (expected != null) {
            String now = etag(tx, r);
            if (!expected.contains(now)) {
                throw new FleetException(ErrorCode.PRECONDITION_FAILED, "rollout " + id + " changed since you read it (ETag " + String.join(", ", expected) + ", now " + now
                        + "): read it again (fleetctl rollout show " + id + ") and decide on what it is now", Map.of("rollout", id, "etag", now));
            }
        }
        return r;
    }

    /**
     * The rollout's decision state as an ETag: its state and phase, each phase's state and window,
     * the open pause events and the flagged units. A new sample or report changes nothing here; a
     * decision (by a human or the engine) does.
     */
    static String etag(Tx tx, Rollout r) throws SQLException {
        StringBuilder b = new StringBuilder().append(r.id()).append('|').append(r.state().wire()).append('|').append(r.phaseIndex());
        RolloutRepository repo = new RolloutRepository(tx);
        for (Phase p : repo.phases(r.id())) b.append('|').append(p.idx()).append(p.state().wire()).append(p.windowEndsAt());
        for (PauseEvent e : new PauseRepository(tx).list(r.id())) if (e.open()) b.append("|pause").append(e.id());
        for (DeviceProgress d : repo.devices(r.id())) if (d.flagged() || d.rollbackRev() != null) b.append('|').append(d.deviceId()).append(d.flagged());
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(h, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
