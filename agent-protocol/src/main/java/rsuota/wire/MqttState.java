package rsuota.wire;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Retained snapshot on {@code rsu/v1/dev/{id}/state}, sent at each heartbeat and transition.
 *
 * @param schema      {@value #SCHEMA}
 * @param deviceId    sender
 * @param identity    variant, region, corridor, site, tags: what the controller registers devices from
 * @param versions    running versions: baseImage, app, agent
 * @param slots       both slots
 * @param deployment  current deployment
 * @param lastError   last error, or null
 * @param kpis        KPIs from the roadside application, or null when none are read
 * @param heartbeatAt device time of this snapshot
 * @param lastSeq     seq of the newest event written to the outbox
 */
public record MqttState(String schema, String deviceId, Identity identity, Map<String, String> versions, List<Slot> slots,
                        Deployment deployment, Error lastError, Kpis kpis, Instant heartbeatAt, long lastSeq) {
    public static final String SCHEMA = "rsu.state/1";

    public MqttState {
        versions = versions == null ? Map.of() : Map.copyOf(versions);
        slots = slots == null ? List.of() : List.copyOf(slots);
    }

    public record Identity(String variant, String region, String corridor, String site, List<String> tags) {
        public Identity {
            tags = tags == null ? List.of() : List.copyOf(tags);
        }
    }

    /** @param state a {@link SlotState} wire name (empty, writing, verified, trial, good, bad); @param release release in the slot, or null */
    public record Slot(String name, String state, String release, boolean booted) {}

    /**
     * @param state          reported state (pending, downloading, verified, awaiting_window, activating,
     *                       committing, activated, failed, rolling_back, rolled_back, needs_investigation, idle)
     * @param release        target release, or null
     * @param rev            desired rev being worked on
     * @param bytesFetched   download progress
     * @param bytesTotal     payload size
     * @param waitingFor     what holds activation (window, inhibitor), or null
     */
    public record Deployment(String state, String release, long rev, long bytesFetched, long bytesTotal, String waitingFor) {}

    public record Error(String code, String message, Instant at) {}

    /**
     * @param availability  0..1
     * @param lagMedianMs   event lag median
     * @param lagP95Ms      event lag p95
     * @param droppedRatio  0..1
     */
    public record Kpis(double availability, double lagMedianMs, double lagP95Ms, double droppedRatio) {}
}
