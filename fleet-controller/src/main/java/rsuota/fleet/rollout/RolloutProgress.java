package rsuota.fleet.rollout;

import java.sql.SQLException;
import java.time.Instant;
import java.util.Set;
import rsuota.fleet.store.Tx;

/**
 * Folds what a device reports (state snapshots and events) into its rows of active rollouts, in
 * the ingest's transaction, so the engine reads columns instead of re-parsing telemetry.
 */
public final class RolloutProgress {
    private RolloutProgress() {}

    private static final Set<String> ROLLBACK_STATES = Set.of("rolling_back", "rolled_back");

    /**
     * @param state   reported deployment state (null: a report without one, e.g. a heartbeat)
     * @param release release the report is about (null: unknown)
     * @param reason  reason code (e.g. boot_failed), or null
     * @param rev     desired rev the device works on (snapshots), or null (events)
     * @param now     controller receive time
     */
    public static void onReport(Tx tx, String deviceId, String state, String release, String reason, Long rev, Instant now)
            throws SQLException {
        RolloutRepository repo = new RolloutRepository(tx);
        for (DeviceProgress d : repo.activeFor(deviceId)) {
            if (!d.dispatched()) continue;
            boolean stale = rev != null && rev < d.rev();
            boolean aboutUs = release == null || release.equals(d.release()) || d.rollbackRev() != null || ROLLBACK_STATES.contains(state)
                    || "needs_investigation".equals(state);
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
                if ("activated".equals(state) && d.release().equals(release) && d.rollbackRev() == null && activatedAt == null) {
                    activatedAt = now;
                }
                if (ROLLBACK_STATES.contains(state) && rollbackKind == null) {
                    rollbackKind = "local";
                    rollbackReason = reason;
                }
                if (d.rollbackRev() != null && rollbackResult == null) {
                    if ("rolled_back".equals(state)) rollbackResult = "healthy";
                    else if ("needs_investigation".equals(state) || "failed".equals(state)) rollbackResult = "needs_investigation";
                }
            }
            DeviceProgress next = new DeviceProgress(d.rolloutId(), d.deviceId(), d.phaseIdx(), d.corridor(), d.release(), d.active(),
                    d.rev(), d.dispatchedAt(), d.held(), deviceState, stateReason, stateAt, now, activatedAt, rollbackKind, rollbackReason,
                    d.rollbackRev(), d.rollbackAt(), d.rollbackDeadline(), rollbackResult, d.overdueAt());
            repo.report(next);
        }
    }
}
