package rsuota.fleet.rollout;

import java.time.Instant;
import java.util.Map;

/**
 * Something a human must look at now: stored, and posted to the configured webhook.
 *
 * @param kind {@link #ROLLBACK_OVERDUE}, {@link #NEEDS_INVESTIGATION}, {@link #PAUSED} or {@link #INCONCLUSIVE_HOLD}
 */
public record Alert(long id, Instant at, String kind, Long rolloutId, String deviceId, Map<String, Object> detail,
                    Instant deliveredAt, String delivery) {
    /** A unit ordered back did not confirm a healthy boot on the previous release by its deadline. */
    public static final String ROLLBACK_OVERDUE = "rollback_overdue";
    /** The audit log does not hold the newest signed checkpoint (a deleted tail or a rewritten chain). */
    public static final String AUDIT_MISMATCH = "audit_mismatch";
    /** A unit is flagged for a human (missed deadline, or it reported needs_investigation). */
    public static final String NEEDS_INVESTIGATION = "needs_investigation";
    /** A rule paused the rollout by itself. */
    public static final String PAUSED = "rollout_paused";
    /** A phase is held because too few devices report for a rule to judge: a human must decide. */
    public static final String INCONCLUSIVE_HOLD = "inconclusive_hold";

    public Alert {
        detail = Map.copyOf(detail);
    }
}
