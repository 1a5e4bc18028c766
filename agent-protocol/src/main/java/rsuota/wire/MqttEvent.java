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

    /** detail key of the {@code verified} transition: bytes the install fetched (header and every resumed run included). */
    public static final String BYTES_FETCHED = "bytesFetched";
    /** detail key of the {@code verified} transition: image bytes copied from the active slot instead of fetched. */
    public static final String BYTES_REUSED = "bytesReused";

    public MqttEvent {
        detail = detail == null ? Map.of() : Map.copyOf(detail);
    }

    /**
     * What a download cost, carried in the detail of the {@code verified} transition that ends it
     * (docs/protocol.md, "events").
     *
     * @param fetched bytes received over the link for this install, header and earlier (resumed) runs included
     * @param reused  image bytes copied from the active slot (and verified) by the run that finished the download
     */
    public record DownloadBytes(long fetched, long reused) {
        public DownloadBytes {
            if (fetched < 0 || reused < 0) throw new IllegalArgumentException("byte counts are >= 0: " + fetched + ", " + reused);
        }

        /** The counts an event's detail carries, or empty when it carries none or they do not parse as counts. */
        public static java.util.Optional<DownloadBytes> in(Map<String, String> detail) {
            String f = detail.get(BYTES_FETCHED);
            String r = detail.get(BYTES_REUSED);
            if (f == null || r == null || !f.matches(COUNT) || !r.matches(COUNT)) return java.util.Optional.empty();
            return java.util.Optional.of(new DownloadBytes(Long.parseLong(f), Long.parseLong(r)));
        }

        /** The text form of a byte count in a detail: a decimal integer without leading zeros, 1 to 18 digits. */
        public static final String COUNT = "0|[1-9][0-9]{0,17}";

        /** The detail entries that carry it. */
        public Map<String, String> detail() {
            return Map.of(BYTES_FETCHED, Long.toString(fetched), BYTES_REUSED, Long.toString(reused));
        }
    }

    /** The download's byte counts, when this event carries them (WireCodec checked their form). */
    public java.util.Optional<DownloadBytes> downloadBytes() {
        return DownloadBytes.in(detail);
    }
}
