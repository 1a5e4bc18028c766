package rsuota.fleet.rollout;

import java.util.Locale;

/** Where one phase of a rollout is. */
public enum PhaseState {
    /** Not reached yet. */
    PENDING,
    /** Its devices are being dispatched and observed. */
    ACTIVE,
    /** Gate met, the phase needs a human's {@code advance}. */
    AWAITING_APPROVAL,
    /** Gate met and advanced. */
    PASSED,
    /** Its devices were ordered back. */
    ROLLED_BACK;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
