package rsuota.fleet.rollout;

import rsuota.wire.DeploymentState;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.store.WriteOrder;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.store.Tx;

/**
 * Folds what a device reports (state snapshots and events) into its rows of active rollouts, in
 * the ingest's transaction, so the engine reads columns instead of re-parsing telemetry.
 */
public final class RolloutProgress {
    private RolloutProgress() {}

    private static final Set<String> ROLLBACK_STATES = Set.of(DeploymentState.ROLLING_BACK.wire(), DeploymentState.ROLLED_BACK.wire());

    /** Who changes a unit's flag from what it reports. */
    static final Principal TELEMETRY = Principal.system("telemetry");

    /**
     * A technician's action on the unit (a {@code local_action} event), folded into the unit's rows of
     * active rollouts and recorded in the audit log with the technician as the actor. A lock makes
     * the unit {@code locked_by_technician}; a local install makes it {@code locally_managed}
     * (the stronger: a later lock does not hide it); unlock ends either. The rollout neither counts
     * such a unit as silent or failed nor dispatches to it (operations.md, "A technician on the unit").
     */
    public static void onLocalAction(Tx tx, AuditLog audit, String deviceId, String action, String actor, String reason,
                                     Map<String, String> detail, Instant at, Instant now) throws SQLException {
        WriteOrder.require("a technician's action on a unit"); // the hold and the audit entry go together, in the order
        RolloutRepository repo = new RolloutRepository(tx);
        List<DeviceProgress> rows = repo.activeFor(deviceId);
        String who = actor == null || actor.isBlank() ? "technician:unknown" : actor;
        DeviceProgress.Local had = repo.hold(deviceId);
        DeviceProgress.Local next = switch (action) {
            case "lock" -> had != null && DeviceProgress.LOCALLY_MANAGED.equals(had.state()) ? had
                    : new DeviceProgress.Local(DeviceProgress.LOCKED_BY_TECHNICIAN, who, at, reason);
            case "install" -> new DeviceProgress.Local(DeviceProgress.LOCALLY_MANAGED, who, at,
                    reason != null ? reason : "installed " + detail.getOrDefault("source", "a bundle") + " on the unit");
            case "unlock" -> null;
            default -> had;
        };
        if (!java.util.Objects.equals(next, had)) repo.hold(deviceId, next);
        Map<String, Object> auditDetail = new LinkedHashMap<>(detail);
        auditDetail.put("device", deviceId);
        auditDetail.put("rollouts", rows.stream().map(DeviceProgress::rolloutId).toList());
        audit.append(tx, new Principal(who, rsuota.fleet.domain.Role.VIEWER), "device.local_action." + action, "device:" + deviceId,
                reason == null ? who + " " + action + " on the unit" : reason, auditDetail);
    }

    /**
     * @param state   reported deployment state (null: a report without one, e.g. a heartbeat)
     * @param release release the report is about (null: unknown)
     * @param reason  reason code (e.g. boot_failed), or null
     * @param rev     desired rev the device works on (snapshots), or null (events)
     * @param now     controller receive time
     * @param audit   where a flag's change is recorded (a unit flagged needs_investigation, or cleared by a healthy boot)
     */
    public static void onReport(Tx tx, AuditLog audit, String deviceId, String state, String release, String reason, Long rev, Instant now)
            throws SQLException {
        RolloutRepository repo = new RolloutRepository(tx);
        // The unit's rows are read and written back: beside another replica's ingest of the same unit, they are read locked.
        for (DeviceProgress d : WriteOrder.beside() ? repo.activeForUpdate(deviceId) : repo.activeFor(deviceId)) {
            if (!d.dispatched()) continue;
            boolean stale = rev != null && rev < d.rev();
            boolean aboutUs = release == null || release.equals(d.release()) || d.rollbackRev() != null || ROLLBACK_STATES.contains(state)
                    || DeploymentState.NEEDS_INVESTIGATION.is(state);
            String deviceState = d.deviceState();
            String stateReason = d.stateReason();
            Instant stateAt = d.stateAt();
            Instant activatedAt = d.activatedAt();
            String rollbackKind = d.rollbackKind();
            String rollbackReason = d.rollbackReason();
            String rollbackResult = d.rollbackResult();
            if (!stale && aboutUs && state != null) {
                deviceState = state;
                stateReason = reason;
                stateAt = now;
                // Success is "activated" for this release after the health commit, never the end of a download.
                if (DeploymentState.ACTIVATED.is(state) && d.release().equals(release) && d.rollbackRev() == null && activatedAt == null) {
                    activatedAt = now;
                }
                if (ROLLBACK_STATES.contains(state) && rollbackKind == null) {
                    rollbackKind = "local";
                    rollbackReason = reason;
                }
                if (d.rollbackRev() != null) {
                    // "rolled_back" is reported after the previous release passed its health commit: the unit is healthy,
                    // and a flag it carried (a missed deadline) clears.
                    if (DeploymentState.ROLLED_BACK.is(state)) rollbackResult = "healthy";
                    else if (rollbackResult == null && (DeploymentState.NEEDS_INVESTIGATION.is(state) || DeploymentState.FAILED.is(state))) rollbackResult = "needs_investigation";
                }
            }
            DeviceProgress next = new DeviceProgress(d.rolloutId(), d.deviceId(), d.phaseIdx(), d.corridor(), d.release(), d.active(),
                    d.rev(), d.dispatchedAt(), d.held(), deviceState, stateReason, stateAt, now, activatedAt, rollbackKind, rollbackReason,
                    d.rollbackRev(), d.rollbackAt(), d.rollbackDeadline(), rollbackResult, d.overdueAt(), d.local(), d.fromRelease());
            repo.report(next);
            if (d.flagged() != next.flagged()) {
                Map<String, Object> detail = new LinkedHashMap<>();
                detail.put("release", d.release());
                detail.put("reported", state);
                if (reason != null) detail.put("reason", reason);
                audit.append(tx, TELEMETRY, next.flagged() ? "rollout.device.flag" : "rollout.device.flag.clear", "rollout:" + d.rolloutId() + "/device:" + d.deviceId(),
                        next.flagged() ? "the unit reported " + state : DeploymentState.ROLLED_BACK.is(state)
                                ? "the unit confirmed a healthy boot on the previous release" : "the unit reported " + state, detail);
            }
        }
    }
}
