package rsuota.fleet.rollout;

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
    /** Reported failed or needs_investigation. */
    FAILED,
    /** Rolled back, by itself or by order. */
    ROLLED_BACK,
    /** Dispatched and unsettled, but not heard from for longer than the silence timeout. */
    SILENT;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Bucket of(DeviceProgress d, Instant now, Duration silentAfter) {
        if (!d.dispatched()) return QUEUED;
        if (d.rollbackKind() != null) return ROLLED_BACK;
        if (d.activatedAt() != null) return SUCCEEDED;
        if ("failed".equals(d.deviceState()) || "needs_investigation".equals(d.deviceState())) return FAILED;
        Instant heard = d.lastReportAt() != null && d.lastReportAt().isAfter(d.dispatchedAt()) ? d.lastReportAt() : d.dispatchedAt();
        if (now.isAfter(heard.plus(silentAfter))) return SILENT;
        return IN_PROGRESS;
    }
}
