package rsuota.agent.update;

/** What a step reports; {@link UpdateTransitions} decides the next state. */
public enum UpdateEvent {
    /** An order arrived (install, desired state). */
    ORDER,
    /** The step finished successfully. */
    SUCCESS,
    /** The step failed for good (reason recorded). */
    FAILURE,
    /** Download-only order reached VERIFIED, or an activation order arrived for a verified slot. */
    ACTIVATE,
    /** The maintenance window opened and no inhibitor holds. */
    WINDOW_OPEN,
    /** After the reboot the trial slot booted. */
    BOOTED_TRIAL,
    /** After the reboot the previous slot booted although a trial was pending. */
    BOOTED_FALLBACK,
    /** Health failed, the commit window ended, or a rollback was commanded. */
    ROLLBACK,
    /** The previous slot is not healthy either. */
    UNHEALTHY,
    /** A newer order replaces the one in flight. */
    CANCEL
}
