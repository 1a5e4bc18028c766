package rsuota.wire;

import java.time.Instant;
import java.util.Map;

/**
 * Every transition, error, alert and command ack, on {@code rsu/v1/dev/{id}/events}. Sent through
 * the device's on-disk outbox; {@code seq} is per device, survives restarts, and lets the
 * controller drop duplicates and notice gaps.
 *
 * @param schema   {@value #SCHEMA}
 * @param deviceId sender
 * @param seq      1, 2, 3, ... per device
 * @param at       device time of the event
 * @param type     transition | error | alert | cmd_ack | local_action
 * @param state    for a transition, the {@link DeploymentState} after it (its wire name; any other word
 *                 is refused); for a cmd_ack, the command's outcome (done, refused, failed)
 * @param release  release concerned, or null
 * @param reason   reason code (e.g. CHUNK_HASH_MISMATCH, boot_failed), or null
 * @param detail   small free-form details (messages, command id, rollout id)
 */
public record MqttEvent(String schema, String deviceId, long seq, Instant at, String type, String state,
                        String release, String reason, Map<String, String> detail) {
    public static final String SCHEMA = "rsu.event/1";
    /** A technician's action on the unit (docs/protocol.md, "Local actions"): detail.actor, detail.action, detail.reason. */
    public static final String LOCAL_ACTION = "local_action";
    /** What a local_action's detail.action may say. */
    public static final java.util.Set<String> LOCAL_ACTIONS = java.util.Set.of("install", "activate", "rollback", "cancel", "lock", "unlock");

    public MqttEvent {
        detail = detail == null ? Map.of() : Map.copyOf(detail);
    }
}
