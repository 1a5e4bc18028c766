package rsuota.fleet.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * How rule sets, findings and rollout settings are kept in TEXT columns: ISO-8601 durations and
 * instants, typed records in, typed records out (the store never holds a threshold as free text).
 */
public final class PolicyJson {
    private PolicyJson() {}

    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    public static String write(Object o) {
        try {
            return MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + o.getClass().getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }

    public static <T> T read(String json, Class<T> type, String column) throws java.sql.SQLException {
        try {
            return MAPPER.readValue(json, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new java.sql.SQLException("column " + column + " does not hold a " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }
}
