package rsuota.fleet.rollout;

import rsuota.wire.DeploymentState;
import java.time.Instant;

/**
 * One device in one rollout, as the store keeps it: queued, dispatched (rev), what it reported,
 * and, once ordered back, the rollback's deadline and result.
 *
 * @param rev            desired rev of its activation order (null: queued, not dispatched)
 * @param held           a pause replaced its order by download-only; resume re-issues the activation
 * @param deviceState    last deployment state it reported for this rollout
 * @param activatedAt    when it reported {@code activated} (after its health commit) for the release
 * @param rollbackKind   "local" (the box rolled back by itself) or "commanded"
 * @param rollbackRev    desired rev of the rollback order (null: none ordered)
 * @param rollbackResult "healthy" (confirmed a health-committed boot on the previous release), "needs_investigation"
 *                       (missed its deadline, or reported so) or "cleared" (an operator cleared the flag, with a reason)
 * @param overdueAt      when the missed rollback deadline raised an alert
 * @param local          a technician's hold on the unit ({@link Local}), or null
 * @param fromRelease    the release it reported running when dispatched (queued: when its phase opened), or null: none reported
 */
public record DeviceProgress(long rolloutId, String deviceId, int phaseIdx, String corridor, String release, boolean active,
                             Long rev, Instant dispatchedAt, boolean held, String deviceState, String stateReason, Instant stateAt,
                             Instant lastReportAt, Instant activatedAt, String rollbackKind, String rollbackReason, Long rollbackRev,
                             Instant rollbackAt, Instant rollbackDeadline, String rollbackResult, Instant overdueAt, Local local,
                             String fromRelease) {

    /** The policy's two holds (docs/operations.md, "A technician on the unit"). */
    public static final String LOCKED_BY_TECHNICIAN = "locked_by_technician";
    public static final String LOCALLY_MANAGED = "locally_managed";

    /**
     * A technician's hold, from the unit's local_action events: {@code state} is
     * {@value #LOCKED_BY_TECHNICIAN} or {@value #LOCALLY_MANAGED}; {@code by} is technician:USER.
     */
    public record Local(String state, String by, Instant since, String reason) {}

    public boolean dispatched() {
        return rev != null;
    }

    /** Flagged for a human: it missed its rollback deadline, or reported needs_investigation. */
    public boolean flagged() {
        return "needs_investigation".equals(rollbackResult) || (DeploymentState.NEEDS_INVESTIGATION.is(deviceState) && !"cleared".equals(rollbackResult));
    }

    /** Past activation or done either way: the device is no longer "in trial". */
    public boolean settled() {
        return activatedAt != null || rollbackKind != null || DeploymentState.FAILED.is(deviceState) || DeploymentState.NEEDS_INVESTIGATION.is(deviceState);
    }
}
