package rsuota.fleet.rollout;

import java.util.Locale;

/** Where a rollout is; {@link RolloutTransitions} says how it moves. */
public enum RolloutState {
    /** Created, nothing dispatched. */
    DRAFT,
    /** Dispatching and observing its current phase. */
    RUNNING,
    /** Stopped by a rule, an operator or a partial rollback: no new activations, no phase advance. */
    PAUSED,
    /** Every dispatched device was ordered back to the previous stable release. */
    ROLLING_BACK,
    /** Every ordered-back device is healthy or flagged for investigation. */
    ROLLED_BACK,
    /** The last phase passed its gate. */
    COMPLETED;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the engine still looks after it (dispatch, rules, rollback deadlines). */
    public boolean active() {
        return this == RUNNING || this == PAUSED || this == ROLLING_BACK;
    }

    public boolean ended() {
        return this == ROLLED_BACK || this == COMPLETED;
    }
}
