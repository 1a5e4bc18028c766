package rsuota.agent.report;

import java.util.Map;

/**
 * Where the engine reports what happened. The production sink is the on-disk outbox: an event is
 * durable (appended and fsync'd, with its per-device seq) when {@link #emit} returns, and leaves
 * the outbox only once the broker acknowledged it.
 */
public interface EventSink {

    /** An event before it gets its seq and timestamp. */
    record Draft(String type, String state, String release, String reason, Map<String, String> detail) {
        public Draft {
            detail = detail == null ? Map.of() : Map.copyOf(detail);
        }

        public static Draft transition(String state, String release, String reason, Map<String, String> detail) {
            return new Draft("transition", state, release, reason, detail);
        }
    }

    /** Records the event durably; throws IOException when it could not be persisted (disk full...). */
    void emit(Draft draft) throws java.io.IOException;

    /** Drops events: for tools that run the engine without reporting (never the daemon). */
    EventSink DISCARD = d -> { };
}
