package rsuota.fleet.rollout;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;

/**
 * Every legal move of a rollout and of its phases, in one table each. Nothing else changes a
 * rollout's or a phase's state: the engine and the API both ask {@link #next} / {@link #nextPhase}.
 */
public final class RolloutTransitions {
    private RolloutTransitions() {}

    /** What happens to a rollout. */
    public enum Event { START, PAUSE, RESUME, COMPLETE, ROLLBACK, ROLLBACK_DONE }

    /** What happens to a phase. */
    public enum PhaseEvent { OPEN, GATE_MET_MANUAL, GATE_LOST, PASS, ROLL_BACK }

    /** One row of a table: {@code from} on {@code on} becomes {@code to}. */
    public record Row<S, E>(S from, E on, S to) {}

    private static Row<RolloutState, Event> on(RolloutState from, Event e, RolloutState to) {
        return new Row<>(from, e, to);
    }

    private static Row<PhaseState, PhaseEvent> on(PhaseState from, PhaseEvent e, PhaseState to) {
        return new Row<>(from, e, to);
    }

    static final List<Row<RolloutState, Event>> ROLLOUT = List.of(
            on(RolloutState.DRAFT,        Event.START,         RolloutState.RUNNING),
            on(RolloutState.RUNNING,      Event.PAUSE,         RolloutState.PAUSED),
            on(RolloutState.RUNNING,      Event.COMPLETE,      RolloutState.COMPLETED),
            on(RolloutState.RUNNING,      Event.ROLLBACK,      RolloutState.ROLLING_BACK),
            on(RolloutState.PAUSED,       Event.RESUME,        RolloutState.RUNNING),
            on(RolloutState.PAUSED,       Event.ROLLBACK,      RolloutState.ROLLING_BACK),
            // A problem found after the last wave still needs the way back.
            on(RolloutState.COMPLETED,    Event.ROLLBACK,      RolloutState.ROLLING_BACK),
            on(RolloutState.ROLLING_BACK, Event.ROLLBACK_DONE, RolloutState.ROLLED_BACK),
            // Part of it (a cohort, a device) was rolled back; the rest may follow later.
            on(RolloutState.ROLLED_BACK,  Event.ROLLBACK,      RolloutState.ROLLING_BACK));

    static final List<Row<PhaseState, PhaseEvent>> PHASE = List.of(
            on(PhaseState.PENDING,           PhaseEvent.OPEN,            PhaseState.ACTIVE),
            on(PhaseState.ACTIVE,            PhaseEvent.PASS,            PhaseState.PASSED),
            on(PhaseState.ACTIVE,            PhaseEvent.GATE_MET_MANUAL, PhaseState.AWAITING_APPROVAL),
            on(PhaseState.AWAITING_APPROVAL, PhaseEvent.GATE_LOST,       PhaseState.ACTIVE),
            on(PhaseState.AWAITING_APPROVAL, PhaseEvent.PASS,            PhaseState.PASSED),
            on(PhaseState.ACTIVE,            PhaseEvent.ROLL_BACK,       PhaseState.ROLLED_BACK),
            on(PhaseState.AWAITING_APPROVAL, PhaseEvent.ROLL_BACK,       PhaseState.ROLLED_BACK),
            on(PhaseState.PASSED,            PhaseEvent.ROLL_BACK,       PhaseState.ROLLED_BACK));

    /** The rollout table, in order (what docs/architecture.md draws). */
    public static List<Row<RolloutState, Event>> rolloutRows() {
        return ROLLOUT;
    }

    /** The phase table, in order. */
    public static List<Row<PhaseState, PhaseEvent>> phaseRows() {
        return PHASE;
    }

    public static Optional<RolloutState> next(RolloutState from, Event e) {
        return ROLLOUT.stream().filter(r -> r.from() == from && r.on() == e).map(Row::to).findFirst();
    }

    public static Optional<PhaseState> nextPhase(PhaseState from, PhaseEvent e) {
        return PHASE.stream().filter(r -> r.from() == from && r.on() == e).map(Row::to).findFirst();
    }

    /** The next state, or ILLEGAL_TRANSITION naming the current one. */
    public static RolloutState require(Rollout r, Event e) throws FleetException {
        return next(r.state(), e).orElseThrow(() -> new FleetException(ErrorCode.ILLEGAL_TRANSITION,
                "rollout " + r.id() + " is " + r.state().wire() + ": cannot " + e.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '),
                Map.of("rollout", r.id(), "state", r.state().wire())));
    }

    public static PhaseState requirePhase(Phase p, PhaseEvent e) throws FleetException {
        return nextPhase(p.state(), e).orElseThrow(() -> new FleetException(ErrorCode.ILLEGAL_TRANSITION,
                "phase " + p.idx() + " ('" + p.name() + "') of rollout " + p.rolloutId() + " is " + p.state().wire()
                        + ": cannot " + e.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '),
                Map.of("rollout", p.rolloutId(), "phase", p.idx(), "state", p.state().wire())));
    }
}
