package rsuota.fleet.testing;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import rsuota.fleet.link.TelemetryIngest;
import rsuota.wire.MqttEvent;
import rsuota.wire.MqttPresence;
import rsuota.wire.MqttState;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;

/** Device messages as an agent would publish them, for feeding the controller's ingest. */
public final class DeviceMessages {
    private DeviceMessages() {}

    public static final MqttState.Kpis GOOD = new MqttState.Kpis(0.999, 300, 2000, 0.0001);
    public static final Instant DEVICE_TIME = Instant.parse("2026-01-01T00:00:00Z");

    public static MqttState stateOf(String id, String variant, String corridor, String deploymentState, String release, long rev, MqttState.Kpis kpis) {
        return new MqttState(MqttState.SCHEMA, id, new MqttState.Identity(variant, "north", corridor, null, List.of()),
                Map.of("baseImage", "1.0", "app", release == null ? "2.3.0" : release, "agent", "0.1.0"), List.of(),
                deploymentState == null ? null : new MqttState.Deployment(deploymentState, release, rev, 0, 0, null), null, kpis, DEVICE_TIME, 0);
    }

    public static TelemetryIngest.Message state(String id, String variant, String corridor, String deploymentState, String release, long rev,
                                                MqttState.Kpis kpis) {
        return new TelemetryIngest.Message(Topics.state(id), WireCodec.encode(stateOf(id, variant, corridor, deploymentState, release, rev, kpis)));
    }

    /**
     * An idle rsu-a1 unit's state: slot A booted with {@code running} (versions.baseImage), or, with {@code running} null,
     * a state that names no running release (no baseImage, a booted slot without a release name).
     */
    public static TelemetryIngest.Message running(String id, String corridor, String running) {
        Map<String, String> versions = new java.util.LinkedHashMap<>();
        if (running != null) versions.put("baseImage", running);
        versions.put("agent", "0.1.0");
        MqttState s = new MqttState(MqttState.SCHEMA, id, new MqttState.Identity("rsu-a1", "north", corridor, null, List.of()), versions,
                List.of(new MqttState.Slot("A", "good", running, true), new MqttState.Slot("B", "empty", null, false)),
                null, null, GOOD, DEVICE_TIME, 0);
        return new TelemetryIngest.Message(Topics.state(id), WireCodec.encode(s));
    }

    public static TelemetryIngest.Message event(String id, long seq, String type, String state, String release, String reason, Map<String, String> detail) {
        return new TelemetryIngest.Message(Topics.events(id),
                WireCodec.encode(new MqttEvent(MqttEvent.SCHEMA, id, seq, DEVICE_TIME, type, state, release, reason, detail)));
    }

    public static TelemetryIngest.Message presence(String id, String status) {
        return new TelemetryIngest.Message(Topics.presence(id), WireCodec.encode(new MqttPresence(MqttPresence.SCHEMA, status, DEVICE_TIME)));
    }
}
