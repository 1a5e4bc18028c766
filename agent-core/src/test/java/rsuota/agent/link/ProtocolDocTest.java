package rsuota.agent.link;

import rsuota.wire.SlotState;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import rsuota.agent.diag.DiagnosticsCommand;
import rsuota.agent.report.Outbox;
import rsuota.wire.Action;
import rsuota.wire.MqttCommand;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.MqttEvent;
import rsuota.wire.MqttPresence;
import rsuota.wire.MqttState;
import rsuota.wire.WireCodec;

/**
 * Keeps docs/protocol.md true: every JSON example in it (marked {@code <!-- example: NAME -->})
 * must decode strictly into exactly the record built here, and must be what the codec writes.
 * Run with {@code -Dprint.examples=true} to print the examples after changing a record.
 */
class ProtocolDocTest {

    static final Path DOC = Path.of("..", "docs", "protocol.md");
    static final Pattern EXAMPLE = Pattern.compile("<!-- example: ([a-z-]+) -->\\s*```json\\n(.*?)```", Pattern.DOTALL);

    static Map<String, Object> examples() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("desired", new MqttDesiredState(MqttDesiredState.SCHEMA, 42, "2.4.1",
                "https://updates.example.net/releases/2.4.1/rsu-app-2.4.1.rsub",
                "3f5a9c0d1e2b4a6f8c7d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d", Action.ACTIVATE,
                Instant.parse("2026-12-01T01:00:00Z"), "Mon-Fri 01:00-04:00 Europe/Berlin", "ro-2026-11-a9",
                Instant.parse("2026-11-27T09:30:00Z"), 262_144L, 1_764_200_000_007L));
        m.put("cmd", new MqttCommand(MqttCommand.SCHEMA, "c-7f3e", DiagnosticsCommand.TYPE, Instant.parse("2026-11-27T10:15:00Z"),
                Map.of(DiagnosticsCommand.UPLOAD_URL, "https://diag.example.net/u/rsu-0042/c-7f3e")));
        m.put("event", new MqttEvent(MqttEvent.SCHEMA, "rsu-0042", 1187, Instant.parse("2026-11-27T10:02:11.204Z"), "transition",
                "downloading", "2.4.1", null, Map.of("rev", "42", "rolloutId", "ro-2026-11-a9")));
        Map<String, String> verified = new java.util.HashMap<>(new MqttEvent.DownloadBytes(9_871_204, 251_650_048).detail());
        verified.putAll(Map.of("rev", "42", "rolloutId", "ro-2026-11-a9", "slot", "B"));
        m.put("event-verified", new MqttEvent(MqttEvent.SCHEMA, "rsu-0042", 1189, Instant.parse("2026-11-27T10:03:52.940Z"), "transition",
                "verified", "2.4.1", null, verified));
        m.put("event-cmd-ack", new MqttEvent(MqttEvent.SCHEMA, "rsu-0042", 1190, Instant.parse("2026-11-27T10:04:40.512Z"),
                CommandDispatcher.TYPE, CommandDispatcher.DONE, null, null, Map.of(CommandDispatcher.CMD_ID, "c-7f3e",
                CommandDispatcher.CMD_TYPE, DiagnosticsCommand.TYPE, "bytes", "412733", "requests", "4", "resumes", "1",
                "sha256", "9b1c0e5f2d7a3c4b6e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d", "truncated", "false")));
        m.put("event-local-action", new MqttEvent(MqttEvent.SCHEMA, "rsu-0042", 1201, Instant.parse("2026-11-27T11:20:03.118Z"), "local_action",
                "idle", null, null, Map.of("action", "lock", "actor", "technician:jdoe", "reason", "radio swap")));
        m.put("event-dropped", new MqttEvent(MqttEvent.SCHEMA, "rsu-0042", 2210, Instant.parse("2026-11-29T06:00:00Z"), "telemetry",
                null, null, null, Map.of("cpu", "0.31", Outbox.DROPPED_SEQS, "2101-2150,2152")));
        m.put("state", new MqttState(MqttState.SCHEMA, "rsu-0042",
                new MqttState.Identity("rsu-v2", "north", "A9", "A9-km-112", List.of("pilot")),
                Map.of("baseImage", "2026.10.2", "app", "2.4.0", "agent", "0.1.0"),
                List.of(new MqttState.Slot("A", SlotState.GOOD.wire(), "2.4.0", true), new MqttState.Slot("B", SlotState.VERIFIED.wire(), "2.4.1", false)),
                new MqttState.Deployment("downloading", "2.4.1", 42, 52_428_800, 157_286_400, null),
                new MqttState.Error("CHUNK_HASH_MISMATCH", "chunk 17 of rootfs: hash mismatch, refetching", Instant.parse("2026-11-27T10:01:55Z")),
                new MqttState.Kpis(0.9994, 11.5, 38.0, 0.0012),
                Instant.parse("2026-11-27T10:03:00Z"), 1189));
        m.put("presence", new MqttPresence(MqttPresence.SCHEMA, MqttPresence.ONLINE, Instant.parse("2026-11-27T09:59:58Z")));
        m.put("presence-will", new MqttPresence(MqttPresence.SCHEMA, MqttPresence.OFFLINE, null));
        return m;
    }

    @Test
    void everyExampleInTheDocIsExactlyWhatTheCodeWritesAndReads() throws Exception {
        // Map entries sorted too, so the printed examples read the same on every run.
        ObjectWriter pretty = WireCodec.mapper().copy().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
                .writerWithDefaultPrettyPrinter();
        Map<String, Object> examples = examples();
        if (Boolean.getBoolean("print.examples")) {
            for (var e : examples.entrySet()) {
                System.out.println("<!-- example: " + e.getKey() + " -->\n```json\n" + pretty.writeValueAsString(e.getValue()) + "\n```\n");
            }
        }
        String doc = Files.readString(DOC, StandardCharsets.UTF_8);
        Matcher m = EXAMPLE.matcher(doc);
        Map<String, String> found = new LinkedHashMap<>();
        while (m.find()) found.put(m.group(1), m.group(2));
        assertThat(found.keySet()).containsExactlyInAnyOrderElementsOf(examples.keySet());
        for (var e : examples.entrySet()) {
            String json = found.get(e.getKey());
            Object decoded = WireCodec.decode(json.getBytes(StandardCharsets.UTF_8), e.getValue().getClass());
            assertThat(decoded).as(e.getKey()).isEqualTo(e.getValue());
            // Same fields and values as the codec writes (including the nulls it writes).
            assertThat(WireCodec.mapper().readTree(json)).as(e.getKey()).isEqualTo(WireCodec.mapper().readTree(WireCodec.encode(e.getValue())));
        }
    }
}
