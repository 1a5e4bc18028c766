package rsuota.fleet.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import rsuota.fleet.domain.CohortFilter;

/** JSON held in TEXT columns (portable; PostgreSQL may later use jsonb without changing callers). */
final class ColumnJson {
    private ColumnJson() {}

    static final ObjectMapper MAPPER = JsonMapper.builder().build();

    static String strings(List<String> values) {
        try {
            return MAPPER.writeValueAsString(values);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a list of strings always serialises", e);
        }
    }

    static List<String> strings(String json, String column) throws SQLException {
        try {
            return List.copyOf(MAPPER.readValue(json, new TypeReference<List<String>>() {}));
        } catch (JsonProcessingException e) {
            throw new SQLException("column " + column + " does not hold a JSON array of strings: " + e.getOriginalMessage(), e);
        }
    }

    static String filter(CohortFilter f) {
        if (f == null) return null;
        Map<String, Object> m = new LinkedHashMap<>();
        if (f.region() != null) m.put("region", f.region());
        if (f.corridor() != null) m.put("corridor", f.corridor());
        if (f.variant() != null) m.put("variant", f.variant());
        if (!f.tags().isEmpty()) m.put("tags", f.tags());
        try {
            return MAPPER.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a filter always serialises", e);
        }
    }

    @SuppressWarnings("unchecked")
    static CohortFilter filter(String json) throws SQLException {
        if (json == null) return null;
        try {
            Map<String, Object> m = MAPPER.readValue(json, new TypeReference<Map<String, Object>>() {});
            return new CohortFilter((String) m.get("region"), (String) m.get("corridor"), (String) m.get("variant"),
                    (List<String>) m.get("tags"));
        } catch (JsonProcessingException | ClassCastException e) {
            throw new SQLException("column cohorts.filter does not hold a cohort filter: " + e.getMessage(), e);
        }
    }
}
