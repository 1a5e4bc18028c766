package rsuota.fleet.rollout;

import rsuota.wire.DeploymentState;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/** How a device of a phase counts towards the phase's exit criteria. */
public enum Bucket {
    /** Not dispatched yet (waiting for its phase or the corridor cap). */
    QUEUED,
    /** Dispatched, still working (downloading, waiting for a window, activating, committing). */
    IN_PROGRESS,
    /** Reported {@code activated} after its health commit: the only success. */
    SUCCEEDED,
    /** Reported failed. */
    FAILED,
    /** Ordered back, or falling back by itself, and not yet confirmed healthy on the previous release. */
    ROLLBACK_PENDING,
    /** Back on the previous release after a health-committed boot there (by itself or by order). */
    ROLLED_BACK,
    /** Missed its rollback deadline, or reported needs_investigation: a human must look at it. */
    NEEDS_INVESTIGATION,
    /** Dispatched and unsettled, but not heard from for longer than the silence timeout. */
    SILENT,
    /** A technician locked the unit: neither silent nor failed, out of the phase's sample until unlocked. */
    LOCKED_BY_TECHNICIAN,
    /** A technician installed another release on the unit: the rollout leaves it alone until unlocked. */
    LOCALLY_MANAGED;

    /** The technician's buckets: out of the rollout's hands, counted neither for nor against a phase. */
    public boolean local() {
        return this == LOCKED_BY_TECHNICIAN || this == LOCALLY_MANAGED;
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Bucket of(DeviceProgress d, Instant now, Duration silentAfter) {
        if (!d.dispatched() && d.local() == null) return QUEUED;
        if (d.flagged()) return NEEDS_INVESTIGATION;
        if (d.local() != null) return DeviceProgress.LOCALLY_MANAGED.equals(d.local().state()) ? LOCALLY_MANAGED : LOCKED_BY_TECHNICIAN;
        if (d.rollbackKind() != null) {
            // Honest counts: rolled back only once the unit confirmed a health-committed boot on the previous release
            // (or an operator who looked at it cleared its flag).
            return "healthy".equals(d.rollbackResult()) || "cleared".equals(d.rollbackResult())
                    || (d.rollbackRev() == null && DeploymentState.ROLLED_BACK.is(d.deviceState())) ? ROLLED_BACK : ROLLBACK_PENDING;
        }
        if ("cleared".equals(d.rollbackResult())) return FAILED;
        if (d.activatedAt() != null) return SUCCEEDED;
        if (DeploymentState.FAILED.is(d.deviceState())) return FAILED;
        Instant heard = d.lastReportAt() != null && d.lastReportAt().isAfter(d.dispatchedAt()) ? d.lastReportAt() : d.dispatchedAt();
        if (now.isAfter(heard.plus(silentAfter))) return SILENT;
        return IN_PROGRESS;
    }
}
