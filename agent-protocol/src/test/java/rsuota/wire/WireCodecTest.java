package rsuota.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class WireCodecTest {
    static final String DIGEST = "a".repeat(64);

    static String desired(String extra) {
        return "{\"schema\":\"rsu.desired/1\",\"rev\":3,\"release\":\"2.4.0\",\"bundleUrl\":\"http://127.0.0.1/b.rsub\","
                + "\"manifestDigest\":\"" + DIGEST + "\",\"action\":\"ACTIVATE\",\"activateAfter\":null,\"window\":null,"
                + "\"rolloutId\":\"r1\",\"issuedAt\":\"2026-11-27T10:00:00Z\"" + extra + "}";
    }

    @Test
    void roundTripOfEveryMessage() throws Exception {
        MqttDesiredState d = WireCodec.decode(desired("").getBytes(StandardCharsets.UTF_8), MqttDesiredState.class);
        assertThat(d.rev()).isEqualTo(3);
        assertThat(WireCodec.decode(WireCodec.encode(d), MqttDesiredState.class)).isEqualTo(d);
        MqttCommand c = new MqttCommand(MqttCommand.SCHEMA, "c1", "collect-diagnostics", Instant.parse("2026-11-27T11:00:00Z"), Map.of("uploadUrl", "x"));
        assertThat(WireCodec.decode(WireCodec.encode(c), MqttCommand.class)).isEqualTo(c);
        MqttEvent e = new MqttEvent(MqttEvent.SCHEMA, "rsu-1", 7, Instant.parse("2026-11-27T11:00:00Z"), "transition", "verified", "2.4.0", null, Map.of());
        assertThat(WireCodec.decode(WireCodec.encode(e), MqttEvent.class)).isEqualTo(e);
    }

    @Test
    void aRolloutsBandwidthCapTravelsAsBytesPerSecondAndAnOrderWithoutOneOmitsTheField() throws Exception {
        MqttDesiredState capped = WireCodec.decode(desired(",\"bandwidthCap\":262144").getBytes(StandardCharsets.UTF_8), MqttDesiredState.class);
        assertThat(capped.bandwidthCap()).isEqualTo(262_144L);
        String json = new String(WireCodec.encode(capped), StandardCharsets.UTF_8);
        assertThat(json).contains("\"bandwidthCap\":262144");
        assertThat(WireCodec.decode(json.getBytes(StandardCharsets.UTF_8), MqttDesiredState.class)).isEqualTo(capped);
        MqttDesiredState uncapped = WireCodec.decode(desired("").getBytes(StandardCharsets.UTF_8), MqttDesiredState.class);
        assertThat(uncapped.bandwidthCap()).isNull();
        // Agents that predate the field refuse unknown fields: an uncapped order must not carry it, not even as null.
        assertThat(new String(WireCodec.encode(uncapped), StandardCharsets.UTF_8)).doesNotContain("bandwidthCap");
    }

    @Test
    void aFencingTokenTravelsWhenAReplicaLeadsAndIsAbsentFromASoleControllersOrder() throws Exception {
        MqttDesiredState fenced = WireCodec.decode(desired(",\"fencingToken\":1733300000001").getBytes(StandardCharsets.UTF_8), MqttDesiredState.class);
        assertThat(fenced.fencingToken()).isEqualTo(1_733_300_000_001L);
        assertThat(WireCodec.decode(WireCodec.encode(fenced), MqttDesiredState.class)).isEqualTo(fenced);
        MqttDesiredState sole = WireCodec.decode(desired("").getBytes(StandardCharsets.UTF_8), MqttDesiredState.class);
        assertThat(sole.fencingToken()).isNull();
        // Agents that predate the field refuse unknown fields: a sole controller's order must not carry it.
        assertThat(new String(WireCodec.encode(sole), StandardCharsets.UTF_8)).doesNotContain("fencingToken");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-5"})
    void aFencingTokenThatIsNotPositiveIsInvalidNamingTheField(String token) {
        WireException ex = catchThrowableOfType(WireException.class,
                () -> WireCodec.decode(desired(",\"fencingToken\":" + token).getBytes(StandardCharsets.UTF_8), MqttDesiredState.class));
        assertThat(ex).isNotNull();
        assertThat(ex.code()).isEqualTo(WireException.Code.INVALID);
        assertThat(ex.getMessage()).contains("fencingToken");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "16383", "1250000001"})
    void aBandwidthCapOutsideItsRangeIsInvalidNamingTheField(String cap) {
        WireException ex = catchThrowableOfType(WireException.class,
                () -> WireCodec.decode(desired(",\"bandwidthCap\":" + cap).getBytes(StandardCharsets.UTF_8), MqttDesiredState.class));
        assertThat(ex).isNotNull();
        assertThat(ex.code()).isEqualTo(WireException.Code.INVALID);
        assertThat(ex.getMessage()).contains("bandwidthCap").contains(cap + " bytes/s").contains("16384");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"2Mbit/s\"", "262144.5", "true"})
    void aBandwidthCapThatIsNotAnIntegerIsMalformed(String cap) {
        WireException ex = catchThrowableOfType(WireException.class,
                () -> WireCodec.decode(desired(",\"bandwidthCap\":" + cap).getBytes(StandardCharsets.UTF_8), MqttDesiredState.class));
        assertThat(ex).as(cap).isNotNull();
        assertThat(ex.code()).isEqualTo(WireException.Code.MALFORMED);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            ",\"rev\":4",                                  // duplicate key
            ",\"extra\":1"})                               // unknown field
    void ambiguousOrUnknownFieldsAreMalformed(String extra) {
        WireException ex = catchThrowableOfType(WireException.class,
                () -> WireCodec.decode(desired(extra).getBytes(StandardCharsets.UTF_8), MqttDesiredState.class));
        assertThat(ex).isNotNull();
        assertThat(ex.code()).isEqualTo(WireException.Code.MALFORMED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"release\":\"2.4.0\"|\"release\":240", "\"release\":\"2.4.0\"|\"release\":true",
            "\"issuedAt\":\"2026-11-27T10:00:00Z\"|\"issuedAt\":0", "\"rev\":3|\"rev\":\"3\"", "\"rev\":3|\"rev\":3.5"})
    void wrongTypesAreMalformed(String swap) {
        String[] p = swap.split("\\|");
        String json = desired("").replace(p[0], p[1]);
        WireException ex = catchThrowableOfType(WireException.class,
                () -> WireCodec.decode(json.getBytes(StandardCharsets.UTF_8), MqttDesiredState.class));
        assertThat(ex).as(json).isNotNull();
        assertThat(ex.code()).isEqualTo(WireException.Code.MALFORMED);
    }

    @Test
    void aTransitionOrStateOutsideTheDeploymentVocabularyIsRefusedNamingTheWord() throws Exception {
        Instant at = Instant.parse("2026-11-27T11:00:00Z");
        for (DeploymentState st : DeploymentState.values()) {
            MqttEvent ok = new MqttEvent(MqttEvent.SCHEMA, "rsu-1", 7, at, "transition", st.wire(), "2.4.0", null, Map.of());
            assertThat(WireCodec.decode(WireCodec.encode(ok), MqttEvent.class).state()).isEqualTo(st.wire());
        }
        MqttEvent written = new MqttEvent(MqttEvent.SCHEMA, "rsu-1", 7, at, "transition", "written", "2.4.0", null, Map.of());
        WireException ex = catchThrowableOfType(WireException.class, () -> WireCodec.decode(WireCodec.encode(written), MqttEvent.class));
        assertThat(ex.code()).isEqualTo(WireException.Code.INVALID);
        assertThat(ex.getMessage()).contains("state 'written' is not a deployment state").contains("awaiting_window");
        // A command acknowledgement's state is the command's outcome, not a deployment state.
        MqttEvent ack = new MqttEvent(MqttEvent.SCHEMA, "rsu-1", 8, at, "cmd_ack", "done", null, null, Map.of("id", "c1"));
        assertThat(WireCodec.decode(WireCodec.encode(ack), MqttEvent.class)).isEqualTo(ack);

        MqttState.Deployment bad = new MqttState.Deployment("Activated", "2.4.0", 3, 0, 0, null);
        MqttState state = new MqttState(MqttState.SCHEMA, "rsu-1", null, Map.of(), java.util.List.of(), bad, null, null, at, 0);
        WireException st = catchThrowableOfType(WireException.class, () -> WireCodec.decode(WireCodec.encode(state), MqttState.class));
        assertThat(st).isNotNull();
        assertThat(st.getMessage()).contains("deployment.state 'Activated'");

        MqttState slots = new MqttState(MqttState.SCHEMA, "rsu-1", null, Map.of(),
                java.util.List.of(new MqttState.Slot("A", "good", "2.4.0", true), new MqttState.Slot("B", "written", "2.5.0", false)),
                new MqttState.Deployment("verified", "2.5.0", 3, 0, 0, null), null, null, at, 0);
        WireException sl = catchThrowableOfType(WireException.class, () -> WireCodec.decode(WireCodec.encode(slots), MqttState.class));
        assertThat(sl).isNotNull();
        assertThat(sl.getMessage()).contains("slots[B].state 'written' is not a slot state (empty, writing, verified, trial, good, bad)");
    }

    @Test
    void theVerifiedTransitionCarriesTheDownloadsByteCounts() throws Exception {
        Instant at = Instant.parse("2026-11-27T11:00:00Z");
        Map<String, String> detail = new java.util.HashMap<>(new MqttEvent.DownloadBytes(1_234_567, 98_765_432).detail());
        detail.put("slot", "B");
        MqttEvent e = new MqttEvent(MqttEvent.SCHEMA, "rsu-1", 9, at, "transition", "verified", "2.5.0", null, detail);
        MqttEvent back = WireCodec.decode(WireCodec.encode(e), MqttEvent.class);
        assertThat(back.downloadBytes()).contains(new MqttEvent.DownloadBytes(1_234_567, 98_765_432));
        assertThat(back.detail()).containsEntry("bytesFetched", "1234567").containsEntry("bytesReused", "98765432");
        // an event without them has none
        assertThat(new MqttEvent(MqttEvent.SCHEMA, "rsu-1", 9, at, "transition", "verified", "2.5.0", null, Map.of()).downloadBytes()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"transition|downloading|1|2|verified transition only, not to a transition to downloading",
            "error||1|2|verified transition only, not to a error",
            "transition|verified|-1|2|detail.bytesFetched '-1' is not a byte count",
            "transition|verified|1|0x10|detail.bytesReused '0x10' is not a byte count",
            "transition|verified|012|2|detail.bytesFetched '012' is not a byte count",
            "transition|verified|1234567890123456789|2|detail.bytesFetched '1234567890123456789' is not a byte count",
            "transition|verified|1||one is missing"})
    void malformedByteCountsAreInvalidNamingTheField(String row) {
        String[] f = row.split("\\|", -1);
        Map<String, String> detail = new java.util.HashMap<>();
        detail.put("bytesFetched", f[2]);
        if (!f[3].isEmpty()) detail.put("bytesReused", f[3]);
        MqttEvent e = new MqttEvent(MqttEvent.SCHEMA, "rsu-1", 9, Instant.parse("2026-11-27T11:00:00Z"), f[0], f[1].isEmpty() ? null : f[1],
                "2.5.0", f[0].equals("error") ? "CHUNK_HASH_MISMATCH" : null, detail);
        WireException ex = catchThrowableOfType(WireException.class, () -> WireCodec.decode(WireCodec.encode(e), MqttEvent.class));
        assertThat(ex).as(row).isNotNull();
        assertThat(ex.code()).isEqualTo(WireException.Code.INVALID);
        assertThat(ex.getMessage()).contains(f[4]);
    }

    @Test
    void unknownSchemaAndOversizeAreRefusedWithTheirCodes() {
        WireException schema = catchThrowableOfType(WireException.class, () -> WireCodec.decode(
                desired("").replace("rsu.desired/1", "rsu.desired/9").getBytes(StandardCharsets.UTF_8), MqttDesiredState.class));
        assertThat(schema.code()).isEqualTo(WireException.Code.UNKNOWN_SCHEMA);
        WireException big = catchThrowableOfType(WireException.class, () -> WireCodec.decode(new byte[WireCodec.MAX_BYTES + 1], MqttDesiredState.class));
        assertThat(big.code()).isEqualTo(WireException.Code.TOO_LARGE);
        WireException rev = catchThrowableOfType(WireException.class, () -> WireCodec.decode(
                desired("").replace("\"rev\":3", "\"rev\":0").getBytes(StandardCharsets.UTF_8), MqttDesiredState.class));
        assertThat(rev.code()).isEqualTo(WireException.Code.INVALID);
    }

    @Test
    void topicsParseOnlyDeviceTopics() {
        assertThat(Topics.parse("rsu/v1/dev/rsu-1/state")).isEqualTo(new Topics.DeviceTopic("rsu-1", "state"));
        assertThat(Topics.parse("rsu/v1/dev/rsu-1/state/x")).isNull();
        assertThat(Topics.parse("rsu/v1/dev/../state")).isNull();
        assertThat(Topics.parse("other/rsu-1/state")).isNull();
    }
}
