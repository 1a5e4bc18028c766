package rsuota.agent.update;

import static rsuota.agent.update.UpdateEvent.ACTIVATE;
import static rsuota.agent.update.UpdateEvent.BOOTED_FALLBACK;
import static rsuota.agent.update.UpdateEvent.BOOTED_TRIAL;
import static rsuota.agent.update.UpdateEvent.CANCEL;
import static rsuota.agent.update.UpdateEvent.FAILURE;
import static rsuota.agent.update.UpdateEvent.ORDER;
import static rsuota.agent.update.UpdateEvent.ROLLBACK;
import static rsuota.agent.update.UpdateEvent.SUCCESS;
import static rsuota.agent.update.UpdateEvent.UNHEALTHY;
import static rsuota.agent.update.UpdateEvent.WINDOW_OPEN;
import static rsuota.agent.update.UpdateState.ACTIVATED;
import static rsuota.agent.update.UpdateState.ACTIVATING;
import static rsuota.agent.update.UpdateState.AWAITING_WINDOW;
import static rsuota.agent.update.UpdateState.COMMITTING;
import static rsuota.agent.update.UpdateState.DOWNLOADING;
import static rsuota.agent.update.UpdateState.FAILED;
import static rsuota.agent.update.UpdateState.IDLE;
import static rsuota.agent.update.UpdateState.NEEDS_INVESTIGATION;
import static rsuota.agent.update.UpdateState.PENDING;
import static rsuota.agent.update.UpdateState.ROLLED_BACK;
import static rsuota.agent.update.UpdateState.ROLLING_BACK;
import static rsuota.agent.update.UpdateState.VERIFIED;

import java.util.EnumMap;
import java.util.Map;

/**
 * The whole update graph as one table: {@code (state, event) -> next state}. Each step of the
 * engine only reports an event; anything not in the table is a programming error.
 */
public final class UpdateTransitions {
    private static final Map<UpdateState, Map<UpdateEvent, UpdateState>> TABLE = new EnumMap<>(UpdateState.class);

    static {
        // terminal-ish states accept a new order
        for (UpdateState s : new UpdateState[] {IDLE, VERIFIED, ACTIVATED, ROLLED_BACK, FAILED, NEEDS_INVESTIGATION}) {
            on(s, ORDER, PENDING);
        }
        on(PENDING,         SUCCESS,         DOWNLOADING);
        on(PENDING,         FAILURE,         FAILED);
        on(PENDING,         CANCEL,          IDLE);
        on(DOWNLOADING,     SUCCESS,         VERIFIED);
        on(DOWNLOADING,     FAILURE,         FAILED);
        on(DOWNLOADING,     CANCEL,          IDLE);
        on(VERIFIED,        ACTIVATE,        AWAITING_WINDOW);
        on(AWAITING_WINDOW, WINDOW_OPEN,     ACTIVATING);
        on(AWAITING_WINDOW, CANCEL,          VERIFIED);
        on(AWAITING_WINDOW, FAILURE,         FAILED);
        on(AWAITING_WINDOW, ORDER,           PENDING);
        // a rollback of a release that never ran here: nothing to undo, the box is already back
        on(VERIFIED,        ROLLBACK,        ROLLED_BACK);
        on(AWAITING_WINDOW, ROLLBACK,        ROLLED_BACK);
        on(ACTIVATING,      BOOTED_TRIAL,    COMMITTING);
        on(ACTIVATING,      BOOTED_FALLBACK, ROLLED_BACK);
        on(ACTIVATING,      FAILURE,         FAILED);
        on(COMMITTING,      SUCCESS,         ACTIVATED);
        on(COMMITTING,      ROLLBACK,        ROLLING_BACK);
        on(COMMITTING,      BOOTED_FALLBACK, ROLLED_BACK);
        on(COMMITTING,      FAILURE,         ROLLING_BACK);
        on(ACTIVATED,       ROLLBACK,        ROLLING_BACK);
        on(ROLLING_BACK,    SUCCESS,         ROLLED_BACK);
        on(ROLLING_BACK,    UNHEALTHY,       NEEDS_INVESTIGATION);
        on(ROLLING_BACK,    FAILURE,         NEEDS_INVESTIGATION);
    }

    private UpdateTransitions() {}

    private static void on(UpdateState from, UpdateEvent event, UpdateState to) {
        TABLE.computeIfAbsent(from, k -> new EnumMap<>(UpdateEvent.class)).put(event, to);
    }

    /** The next state, or throws IllegalStateException naming the illegal pair. */
    public static UpdateState next(UpdateState from, UpdateEvent event) {
        UpdateState to = TABLE.getOrDefault(from, Map.of()).get(event);
        if (to == null) throw new IllegalStateException("no transition from " + from + " on " + event);
        return to;
    }

    /** One row of the table. */
    public record Row(UpdateState from, UpdateEvent on, UpdateState to) {}

    /** Every row, by state then event (the order of the enums): what docs/architecture.md draws. */
    public static java.util.List<Row> rows() {
        java.util.List<Row> out = new java.util.ArrayList<>();
        TABLE.forEach((from, row) -> row.forEach((on, to) -> out.add(new Row(from, on, to))));
        return out;
    }

    public static boolean allowed(UpdateState from, UpdateEvent event) {
        return TABLE.getOrDefault(from, Map.of()).containsKey(event);
    }
}
