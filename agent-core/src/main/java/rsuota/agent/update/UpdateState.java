package rsuota.agent.update;

import java.util.Locale;

/** The engine's internal states (DESIGN.md section 4); {@link #reported()} is the wire name. */
public enum UpdateState {
    IDLE, PENDING, DOWNLOADING, VERIFIED, AWAITING_WINDOW, ACTIVATING, COMMITTING, ACTIVATED,
    ROLLING_BACK, ROLLED_BACK, FAILED, NEEDS_INVESTIGATION;

    /** Lower-case name reported to the controller (pending, downloading, verified, ...). */
    public String reported() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** States in which an update is in flight and a restart must resume it. */
    public boolean inFlight() {
        return switch (this) {
            case PENDING, DOWNLOADING, AWAITING_WINDOW, ACTIVATING, COMMITTING, ROLLING_BACK -> true;
            default -> false;
        };
    }
}
