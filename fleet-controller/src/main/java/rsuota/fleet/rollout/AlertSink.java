package rsuota.fleet.rollout;

/** Where raised alerts go after the transaction that stored them committed (a webhook, a test recorder). */
@FunctionalInterface
public interface AlertSink {
    /** Must not block for long; delivery failures are the sink's to record, never the engine's to handle. */
    void raised(Alert alert);

    AlertSink NONE = a -> { };
}
