package rsuota.fleet.rollout;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.policy.PauseEvent;
import rsuota.fleet.store.Tx;

/**
 * The entity tag of a rollout's decision state: its state, current phase, every phase's state and
 * the ids of its open pause events. Two operators who read the same status see the same tag; any
 * decision (start, pause, resume, advance, rollback, the engine's own pause or phase change) changes
 * it, while telemetry, KPIs and device progress do not (they move every tick, and a client that
 * retried on each of them could never act).
 *
 * <p>A hash, not a stored counter: it needs no column, and it is equal for equal decision states,
 * which is what If-Match compares. It cannot come back to an earlier value by accident: a new pause
 * has a new id, and phases only move forward.
 */
public final class RolloutTag {
    private RolloutTag() {}

    /** The quoted strong entity tag, e.g. {@code "r7-3f09c2a1d4e5b6c7"}, as the ETag header carries it. */
    public static String of(long id, String state, int phaseIndex, List<String> phaseStates, List<Long> openPauses) {
        String canonical = state + "|" + phaseIndex + "|" + String.join(",", phaseStates) + "|"
                + openPauses.stream().sorted().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse("");
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            // 64 bits tell decision states apart; the tag is compared, never trusted as a secret.
            return "\"r" + id + "-" + HexFormat.of().formatHex(h, 0, 8) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** The tag of a status view (what GET /rollouts/{id} answers with). */
    public static String of(RolloutStatus s) {
        return of(s.id(), s.state(), s.phaseIndex(), s.phases().stream().map(RolloutStatus.PhaseView::state).toList(),
                s.pauses().stream().filter(PauseEvent::open).map(PauseEvent::id).toList());
    }

    /** The tag of the stored rollout, inside the caller's transaction. */
    static String of(Tx tx, Rollout r) throws SQLException {
        return of(r.id(), r.state().wire(), r.phaseIndex(),
                new RolloutRepository(tx).phases(r.id()).stream().map(p -> p.state().wire()).toList(),
                new PauseRepository(tx).list(r.id()).stream().filter(PauseEvent::open).map(PauseEvent::id).toList());
    }

    /**
     * An If-Match request header: {@code *} (any current state) or a list of entity tags. Weak tags
     * ({@code W/"..."}) never match: If-Match uses the strong comparison (RFC 9110, 13.1.1).
     */
    public record IfMatch(boolean any, List<String> tags) {
        public IfMatch {
            tags = List.copyOf(tags);
        }

        /** Null when the header is absent or blank (the change is unconditional, as before ETags existed). */
        public static IfMatch parse(String header) throws FleetException {
            if (header == null || header.isBlank()) return null;
            if (header.trim().equals("*")) return new IfMatch(true, List.of());
            List<String> tags = new java.util.ArrayList<>();
            for (String part : header.split(",")) {
                String t = part.trim();
                if (t.isEmpty()) continue;
                boolean weak = t.startsWith("W/");
                String opaque = weak ? t.substring(2) : t;
                if (opaque.length() < 2 || !opaque.startsWith("\"") || !opaque.endsWith("\"") || opaque.substring(1, opaque.length() - 1).contains("\"")) {
                    throw FleetException.invalid("If-Match", "'" + t + "' is not an entity tag: send the ETag header of "
                            + "GET /api/v1/rollouts/{id} as it came, quotes included (or *)");
                }
                if (!weak) tags.add(opaque);
            }
            return new IfMatch(false, tags);
        }

        boolean matches(String current) {
            return any || tags.contains(current);
        }
    }

    /** Refuses the change, before anything is written, when {@code ifMatch} does not name the rollout's current tag. */
    static void require(Tx tx, Rollout r, IfMatch ifMatch) throws SQLException, FleetException {
        if (ifMatch == null) return;
        String current = of(tx, r);
        if (ifMatch.matches(current)) return;
        throw new FleetException(ErrorCode.PRECONDITION_FAILED, "rollout " + r.id() + " changed since you read it (it is now "
                + r.state().wire() + ", phase " + r.phaseIndex() + ", ETag " + current + "): read it again (fleetctl rollout status "
                + r.id() + "), decide, and retry with the new ETag; nothing was changed",
                Map.of("rollout", r.id(), "etag", current, "state", r.state().wire()));
    }
}
