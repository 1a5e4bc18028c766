package rsuota.agent.update;

import rsuota.wire.DeploymentState;

/** The engine's internal states (docs/architecture.md, "The update graph"); {@link #reported()} is the wire name. */
public enum UpdateState {
    IDLE, PENDING, DOWNLOADING, VERIFIED, AWAITING_WINDOW, ACTIVATING, COMMITTING, ACTIVATED,
    ROLLING_BACK, ROLLED_BACK, FAILED, NEEDS_INVESTIGATION;

    /** The wire vocabulary's word for this state (one enum per side, same names: UpdateStateTest). */
    public DeploymentState deployment() {
        return DeploymentState.valueOf(name());
    }

    /** The name reported to the controller (pending, downloading, verified, ...). */
    public String reported() {
        return deployment().wire();
    }

    /** States in which an update is in flight and a restart must resume it. */
    public boolean inFlight() {
        return switch (this) {
            case PENDING, DOWNLOADING, AWAITING_WINDOW, ACTIVATING, COMMITTING, ROLLING_BACK -> true;
            default -> false;
        };
    }
}
