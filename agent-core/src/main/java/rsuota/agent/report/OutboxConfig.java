package rsuota.agent.report;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * Where and how big the outbox is.
 *
 * @param dir            directory of the log, the ack pointer and the drop list (one device per directory)
 * @param maxEvents      bound on unacknowledged events
 * @param maxBytes       bound on their JSON size
 * @param telemetryTypes event types that may be coalesced or dropped when the bound is hit;
 *                       every other type (transition, error, alert, cmd_ack) is never dropped
 * @param compactEvery   rewrite the log once this many acknowledged or dropped lines accumulated
 * @param batchSize      events published before waiting for their PUBACKs
 * @param ackTimeout     longest wait for one PUBACK before the batch is re-sent
 */
public record OutboxConfig(Path dir, int maxEvents, long maxBytes, Set<String> telemetryTypes,
                           int compactEvery, int batchSize, Duration ackTimeout) {

    /**
     * Telemetry by default: periodic readings and download progress, whose newest value
     * supersedes the older ones.
     */
    public static final Set<String> DEFAULT_TELEMETRY = Set.of("telemetry", "progress", "kpi");

    public OutboxConfig {
        if (maxEvents < 2) throw new IllegalArgumentException("maxEvents must be >= 2");
        if (maxBytes < 4096) throw new IllegalArgumentException("maxBytes must be >= 4096");
        if (compactEvery < 1 || batchSize < 1) throw new IllegalArgumentException("compactEvery and batchSize must be >= 1");
        telemetryTypes = Set.copyOf(telemetryTypes);
    }

    /**
     * 10,000 events / 8 MiB: a week offline at one telemetry reading per minute stays far below
     * after coalescing, and 8 MiB is nothing next to a 2 GiB image slot.
     */
    public static OutboxConfig in(Path dir) {
        return new OutboxConfig(dir, 10_000, 8L * 1024 * 1024, DEFAULT_TELEMETRY, 1000, 100, Duration.ofSeconds(35));
    }

    public OutboxConfig withBound(int events, long bytes) {
        return new OutboxConfig(dir, events, bytes, telemetryTypes, compactEvery, batchSize, ackTimeout);
    }

    public OutboxConfig withCompactEvery(int lines) {
        return new OutboxConfig(dir, maxEvents, maxBytes, telemetryTypes, lines, batchSize, ackTimeout);
    }

    public OutboxConfig withBatchSize(int events) {
        return new OutboxConfig(dir, maxEvents, maxBytes, telemetryTypes, compactEvery, events, ackTimeout);
    }
}
