package rsuota.wire;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.util.Map;
import rsuota.json.JsonDataException;
import rsuota.json.RecordJson;

/**
 * JSON for every MQTT message: strict parsing with a size cap, the {@code schema} field checked
 * first, semantic checks after (on jackson-core alone: {@link RecordJson#strict}). Anything refused is a {@link WireException}; nothing else escapes.
 */
public final class WireCodec {
    private WireCodec() {}

    /** Largest message accepted; a state snapshot is ~1-2 KiB. */
    public static final int MAX_BYTES = 64 * 1024;

    /** The agent's codec: jackson-core only (no databind on a unit: {@link RecordJson}). */
    private static final RecordJson JSON = RecordJson.strict(false, 16, MAX_BYTES);

    /**
     * The same contract as a databind mapper, for the controller, which stores and reads wire records with its own
     * ObjectMapper (loaded only when asked for: a unit never is).
     */
    private static final class Databind {
        static final ObjectMapper MAPPER = JsonMapper.builder()
                .addModule(new JavaTimeModule())
                .addModule(new com.fasterxml.jackson.databind.module.SimpleModule("strict-instant")
                        .addDeserializer(java.time.Instant.class, new StrictInstant()))
                // {"rev":1,"rev":2} is ambiguous: refuse it instead of letting the last key win
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
                .build();

        static {
            MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(16).maxStringLength(MAX_BYTES).maxNumberLength(32).build());
            // A number or boolean where the contract says string ("type":1) is a malformed message, not "1".
            var textual = MAPPER.coercionConfigFor(com.fasterxml.jackson.databind.type.LogicalType.Textual);
            for (var shape : new com.fasterxml.jackson.databind.cfg.CoercionInputShape[] {
                    com.fasterxml.jackson.databind.cfg.CoercionInputShape.Integer, com.fasterxml.jackson.databind.cfg.CoercionInputShape.Float,
                    com.fasterxml.jackson.databind.cfg.CoercionInputShape.Boolean}) {
                textual.setCoercion(shape, com.fasterxml.jackson.databind.cfg.CoercionAction.Fail);
            }
        }
    }

    /** Instants only as ISO-8601 text: an epoch number is refused (its unit would be a guess). */
    static final class StrictInstant extends com.fasterxml.jackson.databind.JsonDeserializer<java.time.Instant> {
        @Override
        public java.time.Instant deserialize(com.fasterxml.jackson.core.JsonParser p, com.fasterxml.jackson.databind.DeserializationContext ctxt)
                throws IOException {
            if (p.currentToken() != com.fasterxml.jackson.core.JsonToken.VALUE_STRING) {
                return (java.time.Instant) ctxt.handleUnexpectedToken(java.time.Instant.class, p);
            }
            try {
                return java.time.Instant.parse(p.getText());
            } catch (java.time.format.DateTimeParseException e) {
                return (java.time.Instant) ctxt.handleWeirdStringValue(java.time.Instant.class, p.getText(), "not an ISO-8601 instant");
            }
        }
    }

    private static final Map<Class<?>, String> SCHEMAS = Map.of(
            MqttDesiredState.class, MqttDesiredState.SCHEMA,
            MqttCommand.class, MqttCommand.SCHEMA,
            MqttEvent.class, MqttEvent.SCHEMA,
            MqttState.class, MqttState.SCHEMA,
            MqttPresence.class, MqttPresence.SCHEMA);

    public static byte[] encode(Object message) {
        return JSON.write(message);
    }

    /** The shared mapper configuration, for callers that store wire records (outbox, controller). */
    public static ObjectMapper mapper() {
        return Databind.MAPPER;
    }

    public static <T> T decode(byte[] payload, Class<T> type) throws WireException {
        String schema = SCHEMAS.get(type);
        if (schema == null) throw new IllegalArgumentException("not a wire type: " + type);
        if (payload == null || payload.length == 0) throw new WireException(WireException.Code.MALFORMED, "empty payload");
        if (payload.length > MAX_BYTES) {
            throw new WireException(WireException.Code.TOO_LARGE, payload.length + " bytes exceeds the " + MAX_BYTES + "-byte limit");
        }
        String s;
        try {
            s = JSON.topLevelText(payload, "schema");
        } catch (JsonDataException e) {
            throw new WireException(WireException.Code.MALFORMED, e.getMessage());
        }
        if (s == null) throw new WireException(WireException.Code.MALFORMED, "no schema field");
        if (!schema.equals(s)) {
            throw new WireException(WireException.Code.UNKNOWN_SCHEMA, "schema '" + truncate(s) + "' is not " + schema);
        }
        T value;
        try {
            value = JSON.read(payload, type);
        } catch (JsonDataException e) {
            throw new WireException(WireException.Code.MALFORMED, type.getSimpleName() + ": " + firstLine(e.getMessage()));
        }
        validate(value);
        return value;
    }

    private static void validate(Object v) throws WireException {
        if (v instanceof MqttDesiredState d) {
            require(d.rev() > 0, "rev must be > 0");
            require(d.action() != null, "action is missing");
            require(d.release() != null && !d.release().isBlank(), "release is missing");
            if (d.action() != Action.ROLLBACK) {
                require(d.bundleUrl() != null && !d.bundleUrl().isBlank(), "bundleUrl is missing");
                require(d.manifestDigest() != null && d.manifestDigest().matches("[0-9a-f]{64}"), "manifestDigest must be 64 hex digits");
            }
            if (d.bandwidthCap() != null) {
                String p = Bandwidth.problem(d.bandwidthCap());
                require(p == null, "bandwidthCap: " + p);
            }
            require(d.fencingToken() == null || d.fencingToken() > 0, "fencingToken must be > 0 when present");
        } else if (v instanceof MqttCommand c) {
            require(c.id() != null && !c.id().isBlank() && c.id().length() <= 128, "id is missing or too long");
            require(c.type() != null && !c.type().isBlank(), "type is missing");
            require(c.expiresAt() != null, "expiresAt is missing");
        } else if (v instanceof MqttEvent e) {
            require(e.seq() > 0, "seq must be > 0");
            require(e.deviceId() != null && Topics.DEVICE_ID.matcher(e.deviceId()).matches(), "deviceId is invalid");
            require(e.type() != null, "type is missing");
            if ("transition".equals(e.type())) knownState(e.state(), "state");
            boolean fetched = e.detail().containsKey(MqttEvent.BYTES_FETCHED);
            boolean reused = e.detail().containsKey(MqttEvent.BYTES_REUSED);
            if (fetched || reused) {
                require("transition".equals(e.type()) && DeploymentState.VERIFIED.wire().equals(e.state()),
                        "detail.bytesFetched and detail.bytesReused belong to the verified transition only, not to a " + e.type()
                                + (e.state() == null ? "" : " to " + truncate(e.state())));
                require(fetched && reused, "detail.bytesFetched and detail.bytesReused come together; one is missing");
                for (String k : new String[] {MqttEvent.BYTES_FETCHED, MqttEvent.BYTES_REUSED}) {
                    String n = e.detail().get(k);
                    require(n != null && n.matches(MqttEvent.DownloadBytes.COUNT), "detail." + k + " '" + truncate(String.valueOf(n))
                            + "' is not a byte count (a decimal integer, 0 to 18 digits)");
                }
            }
            if (MqttEvent.LOCAL_ACTION.equals(e.type())) {
                String actor = e.detail().get("actor");
                require(actor != null && actor.matches("technician:[A-Za-z0-9._-]{1,64}"), "local_action needs detail.actor technician:USER");
                require(MqttEvent.LOCAL_ACTIONS.contains(e.detail().get("action")), "local_action's detail.action must be one of "
                        + MqttEvent.LOCAL_ACTIONS);
            }
        } else if (v instanceof MqttState s) {
            require(s.deviceId() != null && Topics.DEVICE_ID.matcher(s.deviceId()).matches(), "deviceId is invalid");
            require(s.heartbeatAt() != null, "heartbeatAt is missing");
            if (s.deployment() != null) knownState(s.deployment().state(), "deployment.state");
            if (s.slots() != null) {
                for (MqttState.Slot slot : s.slots()) {
                    require(slot.state() == null || SlotState.of(slot.state()).isPresent(),
                            "slots[" + slot.name() + "].state '" + truncate(slot.state()) + "' is not a slot state (" + SlotState.names() + ")");
                }
            }
        } else if (v instanceof MqttPresence p) {
            require(MqttPresence.ONLINE.equals(p.status()) || MqttPresence.OFFLINE.equals(p.status()), "status must be online or offline");
        }
    }

    /** Null (nothing to report) or one of {@link DeploymentState}'s wire names. */
    private static void knownState(String state, String field) throws WireException {
        require(state == null || DeploymentState.of(state).isPresent(),
                field + " '" + truncate(state) + "' is not a deployment state (" + DeploymentState.names() + ")");
    }

    private static void require(boolean ok, String what) throws WireException {
        if (!ok) throw new WireException(WireException.Code.INVALID, what);
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return truncate(nl < 0 ? s : s.substring(0, nl));
    }

    private static String truncate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
