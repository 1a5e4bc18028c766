package rsuota.agent.report;

import rsuota.wire.MqttEvent;

/**
 * One event of the outbox not yet acknowledged by the broker, with its log line as written
 * (without the newline), so it is sent and compacted byte for byte as it was fsync'd.
 */
record PendingEvent(MqttEvent event, byte[] json, boolean telemetry) {

    long seq() {
        return event.seq();
    }

    /** Its share of {@link OutboxConfig#maxBytes}: the line and its newline. */
    int bytes() {
        return json.length + 1;
    }
}
