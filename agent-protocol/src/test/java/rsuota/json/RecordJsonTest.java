package rsuota.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import rsuota.bundle.Manifest;
import rsuota.bundle.ManifestCodec;
import rsuota.bundle.ManifestImage;
import rsuota.wire.Action;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.MqttEvent;
import rsuota.wire.MqttState;
import rsuota.wire.WireCodec;

/**
 * The agent's JSON without databind: what it writes is what databind (the controller's reader, and the agent's own
 * codec before) wrote for the same records, and every shape the contracts refuse is refused with its path.
 */
class RecordJsonTest {
    static final String HEX = "ab".repeat(32);
    static final Instant AT = Instant.parse("2026-12-04T10:15:30.123456Z");

    /** The manifest's databind configuration before this codec: sorted properties and map keys, no whitespace. */
    static final ObjectMapper DATABIND_MANIFEST = JsonMapper.builder()
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY).enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).build();

    static Manifest manifest(boolean format2) {
        ManifestImage.Cdc cdc = format2 ? new ManifestImage.Cdc(16384, 65536, "zstd", 262144,
                List.of(new ManifestImage.Stored(70000, 30000, HEX), new ManifestImage.Stored(5, 14, HEX))) : null;
        Map<String, String> components = new LinkedHashMap<>();
        components.put("z-app", "1.0");
        components.put("agent", "2.0");
        return new Manifest("2.4.0", 7, List.of("rsu-x", "rsu-y"), components, "2026-12-04T10:00:00Z",
                List.of(new ManifestImage("rootfs", 0, 70005, HEX, format2 ? 262144 : 65536, List.of(HEX, HEX), cdc)));
    }

    @Test
    void aManifestEncodesToTheSameBytesDatabindWroteSoSignaturesAndDigestsDoNotChange() throws Exception {
        for (boolean format2 : new boolean[] {false, true}) {
            Manifest m = manifest(format2);
            byte[] ours = ManifestCodec.encode(m);
            assertThat(new String(ours, StandardCharsets.UTF_8)).isEqualTo(DATABIND_MANIFEST.writeValueAsString(m));
            assertThat(ManifestCodec.decode(ours)).isEqualTo(m);
        }
        assertThat(new String(ManifestCodec.encode(manifest(true)), StandardCharsets.UTF_8))
                .contains("\"stored\":[[70000,30000,\"" + HEX + "\"],[5,14,\"" + HEX + "\"]]")
                .doesNotContain(" ");
        assertThat(new String(ManifestCodec.encode(manifest(false)), StandardCharsets.UTF_8)).doesNotContain("cdc");
    }

    /** A record's own constructor refusing a value (List.copyOf meeting a null) is a refusal naming the record, not a crash. */
    @Test
    void aValueARecordsConstructorRefusesIsAMalformedManifestNamingTheRecord() {
        String json = new String(ManifestCodec.encode(manifest(false)), StandardCharsets.UTF_8)
                .replace("\"chunks\":[\"" + HEX + "\",\"" + HEX + "\"]", "\"chunks\":[null]");
        assertThat(json).contains("\"chunks\":[null]");
        rsuota.bundle.BundleException e = catchThrowableOfType(rsuota.bundle.BundleException.class,
                () -> ManifestCodec.decode(json.getBytes(StandardCharsets.UTF_8)));
        assertThat(e.reason()).isEqualTo(rsuota.bundle.Reason.MALFORMED_MANIFEST);
        assertThat(e.getMessage()).contains("'images[0]' ManifestImage refused its values: java.lang.NullPointerException");
    }

    @Test
    void wireMessagesAreTheSameJsonTreesDatabindWritesAndReadBackEqual() throws Exception {
        ObjectMapper databind = WireCodec.mapper();
        List<Object> messages = List.of(
                new MqttDesiredState(MqttDesiredState.SCHEMA, 3, "2.4.0", "http://127.0.0.1/b.rsub", HEX, Action.ACTIVATE, AT, "22:00-05:00",
                        "r1", AT, 262144L, null),
                new MqttEvent(MqttEvent.SCHEMA, "rsu-1", 9, AT, "transition", "verified", "2.4.0", null,
                        Map.of("bytesFetched", "10", "bytesReused", "20")),
                new MqttState(MqttState.SCHEMA, "rsu-1", new MqttState.Identity("v1", "north", "c7", "s1", List.of("pilot")),
                        Map.of("rootfs", "2.4.0"), List.of(new MqttState.Slot("A", "good", "2.3.0", true)),
                        new MqttState.Deployment("downloading", "2.4.0", 3, 100, 200, null), new MqttState.Error("E", "m", AT),
                        new MqttState.Kpis(0.999, 12.5, 40.25, 0.001), AT, 41));
        for (Object m : messages) {
            byte[] ours = WireCodec.encode(m);
            assertThat(databind.readTree(ours)).as(m.getClass().getSimpleName()).isEqualTo(databind.readTree(databind.writeValueAsBytes(m)));
            assertThat(WireCodec.decode(databind.writeValueAsBytes(m), m.getClass())).isEqualTo(m);
        }
    }

    /** The agent's state files: databind's JavaTimeModule text for instants, indented, readable both ways. */
    record Slot(String release, String status) {}

    record State(String state, long rev, boolean now, int tries, double ratio, Instant at, Map<String, Slot> slots, List<String> tags,
                 Action action) {}

    @Test
    void theAgentsFilesReadWhatDatabindWroteAndDatabindReadsWhatTheyWrite() throws Exception {
        ObjectMapper databind = JsonMapper.builder().addModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT).build();
        State s = new State("downloading", 5, true, 2, 0.25, AT, Map.of("A", new Slot("2.3.0", "good")), List.of("x"), Action.ROLLBACK);
        RecordJson json = RecordJson.lenient();
        assertThat(json.read(databind.writeValueAsBytes(s), State.class)).isEqualTo(s);
        assertThat(databind.readValue(json.write(s), State.class)).isEqualTo(s);
        assertThat(new String(json.write(s), StandardCharsets.UTF_8)).isEqualTo(databind.writeValueAsString(s));
    }

    @Test
    void theAgentsFilesSkipUnknownFieldsAndDefaultMissingOnesForAnOlderOrNewerAgent() throws Exception {
        State s = RecordJson.lenient().read("{\"state\":\"idle\",\"addedLater\":{\"deep\":[1,2]},\"at\":1733307330}"
                .getBytes(StandardCharsets.UTF_8), State.class);
        assertThat(s).isEqualTo(new State("idle", 0, false, 0, 0.0, Instant.ofEpochSecond(1733307330), null, null, null));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "unknown field      | {\"rev\":1,\"extra\":2}                  | 'extra' is not a field of Order",
            "duplicate key      | {\"rev\":1,\"rev\":2}                    | Duplicate field 'rev'",
            "null for a number  | {\"rev\":null}                           | 'rev' is null; a long is required",
            "text for a number  | {\"rev\":\"1\"}                          | 'rev' is text '1'; expected an integer",
            "fraction for int   | {\"rev\":1.5}                            | 'rev' is the number 1.5; expected an integer",
            "number for text    | {\"release\":5}                          | 'release' is the number 5; expected text",
            "bool for text      | {\"release\":true}                       | 'release' is true; expected text",
            "epoch instant      | {\"at\":1733307330}                      | 'at' is the number 1733307330; expected an ISO-8601 instant",
            "bad instant        | {\"at\":\"yesterday\"}                   | 'at' 'yesterday' is not an ISO-8601 instant",
            "unknown enum       | {\"action\":\"EXPLODE\"}                 | 'action' 'EXPLODE' is not one of [DOWNLOAD, ACTIVATE, ROLLBACK]",
            "object for list    | {\"tags\":{}}                            | 'tags' is an object; expected an array",
            "bad list element   | {\"tags\":[\"a\",7]}                     | 'tags[1]' is the number 7; expected text",
            "int overflow       | {\"tries\":4294967296}                   | 'tries' 4294967296 is out of range of a 32-bit integer",
            "long overflow      | {\"rev\":99999999999999999999}           | 'rev' 99999999999999999999 is out of range of a 64-bit integer",
            "trailing data      | {\"rev\":1} {}                           | trailing data after the JSON value",
            "not JSON           | {\"rev\":                                | Unexpected end-of-input",
            "empty              | ''                                       | no JSON value",
    })
    void strictReadingRefusesEachShapeNamingTheField(String what, String input, String message) {
        JsonDataException e = catchThrowableOfType(JsonDataException.class,
                () -> RecordJson.strict(false, 16, 1024).read(input.getBytes(StandardCharsets.UTF_8), Order.class));
        assertThat(e).as(what).isNotNull();
        assertThat(e.getMessage()).as(what).contains(message);
    }

    record Order(long rev, String release, int tries, Instant at, Action action, List<String> tags,
                 @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL) Long cap) {}

    @Test
    void whenEveryFieldIsRequiredAMissingOneIsNamedExceptOneWrittenOnlyWhenPresent() throws Exception {
        RecordJson json = RecordJson.strict(true, 16, 1024);
        JsonDataException e = catchThrowableOfType(JsonDataException.class, () -> json.read(
                "{\"rev\":1,\"release\":\"r\",\"tries\":0,\"at\":\"2026-12-04T10:00:00Z\",\"action\":\"ACTIVATE\"}".getBytes(StandardCharsets.UTF_8),
                Order.class));
        assertThat(e.getMessage()).isEqualTo("'tags' is missing");
        assertThat(e.path()).isEqualTo("tags");
        Order o = json.read("{\"rev\":1,\"release\":\"r\",\"tries\":0,\"at\":\"2026-12-04T10:00:00Z\",\"action\":\"ACTIVATE\",\"tags\":[]}"
                .getBytes(StandardCharsets.UTF_8), Order.class);
        assertThat(o.cap()).isNull();
        assertThat(new String(json.write(o), StandardCharsets.UTF_8)).isEqualTo(
                "{\"action\":\"ACTIVATE\",\"at\":\"2026-12-04T10:00:00Z\",\"release\":\"r\",\"rev\":1,\"tags\":[],\"tries\":0}");
    }

    @Test
    void theTopLevelTextOfAFieldIsFoundWithoutMappingTheRest() throws Exception {
        RecordJson json = RecordJson.strict(false, 16, 1024);
        assertThat(json.topLevelText("{\"a\":{\"schema\":\"inner\"},\"schema\":\"s/1\",\"b\":[1]}".getBytes(StandardCharsets.UTF_8), "schema"))
                .isEqualTo("s/1");
        assertThat(json.topLevelText("{\"schema\":1}".getBytes(StandardCharsets.UTF_8), "schema")).isNull();
        assertThat(catchThrowableOfType(JsonDataException.class, () -> json.topLevelText("[1]".getBytes(StandardCharsets.UTF_8), "schema")))
                .hasMessage("not a JSON object");
        assertThat(catchThrowableOfType(JsonDataException.class, () -> json.topLevelText("{\"a\":".getBytes(StandardCharsets.UTF_8), "schema")))
                .hasMessageStartingWith("not JSON: ");
        String deep = "{\"a\":" + "[".repeat(17) + "]".repeat(17) + "}";
        assertThat(catchThrowableOfType(JsonDataException.class, () -> json.topLevelText(deep.getBytes(StandardCharsets.UTF_8), "schema")))
                .hasMessageContaining("nesting depth");
    }

    /** Counts what it is given and hands back an unmodifiable list: shows it was used, element by element. */
    static final class CountingSink implements RecordJson.ListSink<Integer> {
        static int adds;
        private final java.util.ArrayList<Integer> got = new java.util.ArrayList<>();

        @Override
        public void add(Integer element) {
            adds++;
            got.add(element);
        }

        @Override
        public List<Integer> build() {
            return java.util.Collections.unmodifiableList(got);
        }
    }

    record Collected(String name, @RecordJson.Collect(CountingSink.class) List<Integer> items, List<Integer> plain) {}

    @Test
    void aCollectComponentIsReadIntoItsSinkElementByElement() throws Exception {
        RecordJson json = RecordJson.strict(true, 16, 1024);
        CountingSink.adds = 0;
        Collected c = json.read("{\"items\":[3,1,2],\"name\":\"n\",\"plain\":[4,5]}".getBytes(StandardCharsets.UTF_8), Collected.class);
        assertThat(c.items()).containsExactly(3, 1, 2);
        assertThat(c.plain()).containsExactly(4, 5).isInstanceOf(java.util.ArrayList.class);
        assertThat(CountingSink.adds).as("the sink got the collected list's elements, not the plain one's").isEqualTo(3);
        assertThat(c.items().getClass().getName()).contains("Unmodifiable");
        // a bad element is named by its index, as in a plain list; null for the list stays null
        assertThat(catchThrowableOfType(JsonDataException.class, () -> json.read(
                "{\"items\":[3,\"x\"],\"name\":\"n\",\"plain\":[]}".getBytes(StandardCharsets.UTF_8), Collected.class)))
                .hasMessageContaining("items[1]");
        assertThat(json.read("{\"items\":null,\"name\":\"n\",\"plain\":[]}".getBytes(StandardCharsets.UTF_8), Collected.class).items()).isNull();
        // written as any list
        assertThat(new String(json.write(c), StandardCharsets.UTF_8)).isEqualTo("{\"items\":[3,1,2],\"name\":\"n\",\"plain\":[4,5]}");
    }
}
