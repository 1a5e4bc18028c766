package rsuota.fleet.rollout;

import java.time.Duration;

/**
 * Rollout-wide settings, fixed at creation.
 *
 * @param corridorCap      most devices of one corridor in trial at once, across all rollouts
 *                         (neighbouring roadside units cover for each other); null: no cap
 * @param silentAfter      a dispatched device that has not reported for this long is counted silent
 * @param rollbackDeadline time a device has to confirm an ordered rollback before an alert is raised
 * @param window           maintenance window put in the desired state (narrows the device's own), or null
 * @param activateDelay    earliest activation relative to dispatch (desired activateAfter), or null
 * @param bandwidthCap     download cap in bytes/s put in the desired state (replaces each unit's own cap), or null
 */
public record RolloutSettings(Integer corridorCap, Duration silentAfter, Duration rollbackDeadline, String window, Duration activateDelay,
                              Long bandwidthCap) {
    /** Four missed heartbeats at the agent's default of one per 5 minutes. */
    public static final Duration DEFAULT_SILENT_AFTER = Duration.ofMinutes(20);
    /** A rollback to the other slot is one reboot; 30 min covers a slow boot and a re-install over cellular. */
    public static final Duration DEFAULT_ROLLBACK_DEADLINE = Duration.ofMinutes(30);

    public static RolloutSettings defaults() {
        return new RolloutSettings(null, DEFAULT_SILENT_AFTER, DEFAULT_ROLLBACK_DEADLINE, null, null);
    }

    public RolloutSettings {
        if (corridorCap != null && corridorCap < 1) throw new IllegalArgumentException("corridorCap must be >= 1");
        if (silentAfter == null || silentAfter.isZero() || silentAfter.isNegative()) throw new IllegalArgumentException("silentAfter must be positive");
        if (rollbackDeadline == null || rollbackDeadline.isZero() || rollbackDeadline.isNegative()) {
            throw new IllegalArgumentException("rollbackDeadline must be positive");
        }
        if (activateDelay != null && activateDelay.isNegative()) throw new IllegalArgumentException("activateDelay must be >= 0");
        if (bandwidthCap != null && rsuota.wire.Bandwidth.problem(bandwidthCap) != null) {
            throw new IllegalArgumentException("bandwidthCap: " + rsuota.wire.Bandwidth.problem(bandwidthCap));
        }
    }

    /** Without a bandwidth cap. */
    public RolloutSettings(Integer corridorCap, Duration silentAfter, Duration rollbackDeadline, String window, Duration activateDelay) {
        this(corridorCap, silentAfter, rollbackDeadline, window, activateDelay, null);
    }
}
