package rsuota.agent.update;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.report.EventSink;

/**
 * What the engine tells the controller: one event per persisted transition (with the order's rev
 * and rollout, so the controller files it under the right desired state) and its alerts. Called
 * only after the state is persisted; an event that cannot be recorded is logged and the step goes
 * on, because the state file, not the event, is what the agent acts on.
 */
final class EngineEvents {
    /** Logs as {@link UpdateEngine}: the logger name is in every line, and operators filter on it. */
    private static final Logger log = LoggerFactory.getLogger(UpdateEngine.class);

    private final EventSink sink;

    EngineEvents(EventSink sink) {
        this.sink = sink;
    }

    /** The transition into {@code s} (already persisted), for {@code reason} (a failure or rollback code), or null. */
    void transition(EngineState s, Map<String, String> detail, String reason) {
        UpdateState next = s.state();
        String release = s.target() != null ? s.target().release() : s.order() != null ? s.order().release() : null;
        Map<String, String> d = new LinkedHashMap<>();
        if (detail != null) d.putAll(detail);
        if (s.order() != null && s.order().rev() > 0) d.put("rev", Long.toString(s.order().rev()));
        if (s.order() != null && s.order().rolloutId() != null) d.put("rolloutId", s.order().rolloutId());
        try {
            sink.emit(EventSink.Draft.transition(next.reported(), release, reason, d));
        } catch (IOException e) {
            log.error("event for {} not recorded: {}", next, e.toString());
        }
    }

    /** A rollback still not healthy past its time budget: a human should look, the agent keeps trying. */
    void rollbackBudgetExceeded(EngineState s, Duration budget, EngineState.Activation a) {
        try {
            sink.emit(new EventSink.Draft("alert", s.state().reported(), s.target() == null ? null : s.target().release(),
                    "ROLLBACK_BUDGET_EXCEEDED", Map.of("budget", budget.toString(),
                            "since", a.rollbackSince().toString(), "message", "rollback not healthy within its time budget; still trying")));
        } catch (IOException e) {
            log.error("alert not recorded: {}", e.toString());
        }
    }
}
