package rsuota.fleet.device;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import rsuota.fleet.domain.DeviceRecord;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;

/**
 * Reads a whole inventory file or refuses it: the first bad row fails the parse with
 * INVENTORY_INVALID naming the line and the field, so an import is all or nothing.
 */
public final class InventoryParser {
    private InventoryParser() {}

    static final Set<String> FIELDS = Set.of("id", "variant", "region", "corridor", "site", "tags");
    private static final ObjectMapper MAPPER = JsonMapper.builder().build();

    public static List<DeviceRecord> parse(String content, InventoryFormat format) throws FleetException {
        List<Row> rows = format == InventoryFormat.CSV ? csvRows(content) : jsonRows(content);
        List<DeviceRecord> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (Row row : rows) {
            DeviceRecord r;
            try {
                r = new DeviceRecord(row.get("id"), row.get("variant"), row.get("region"), row.get("corridor"),
                        row.get("site"), row.tags).validated();
            } catch (FleetException e) {
                String field = String.valueOf(e.details().getOrDefault("field", "?"));
                throw bad(row.line, field, e.getMessage().substring(e.getMessage().indexOf(':') + 1).trim());
            }
            Integer first = seen.putIfAbsent(r.id(), row.line);
            if (first != null) throw bad(row.line, "id", "device " + r.id() + " is listed again (first on line " + first + ")");
            out.add(r);
        }
        return out;
    }

    /** One input row: its line and its raw fields. */
    private record Row(int line, Map<String, String> values, List<String> tags) {
        String get(String k) {
            return values.get(k);
        }
    }

    private static List<Row> csvRows(String content) throws FleetException {
        String[] lines = content.split("\r?\n", -1);
        List<String> header = null;
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            int lineNo = i + 1;
            String line = lines[i];
            if (line.isBlank() || line.startsWith("#")) continue;
            List<String> cells = splitCsv(line, lineNo);
            if (header == null) {
                header = new ArrayList<>();
                for (String h : cells) {
                    String name = h.trim().toLowerCase(Locale.ROOT);
                    if (!FIELDS.contains(name)) throw bad(lineNo, name, "unknown column (known: id, variant, region, corridor, site, tags)");
                    if (header.contains(name)) throw bad(lineNo, name, "column appears twice");
                    header.add(name);
                }
                if (!header.contains("id")) throw bad(lineNo, "id", "the header has no id column");
                if (!header.contains("variant")) throw bad(lineNo, "variant", "the header has no variant column");
                continue;
            }
            if (cells.size() != header.size()) {
                throw bad(lineNo, "*", "has " + cells.size() + " fields, the header has " + header.size());
            }
            Map<String, String> values = new LinkedHashMap<>();
            List<String> tags = List.of();
            for (int c = 0; c < header.size(); c++) {
                String v = cells.get(c).trim();
                if (header.get(c).equals("tags")) {
                    tags = v.isEmpty() ? List.of() : List.of(v.split("\\s*;\\s*"));
                } else {
                    values.put(header.get(c), v.isEmpty() ? null : v);
                }
            }
            rows.add(new Row(lineNo, values, tags));
        }
        if (header == null) throw bad(1, "*", "the file is empty (expected a header line: id,variant,region,corridor,site,tags)");
        return rows;
    }

    /** RFC 4180 fields on one line: quotes around a field, "" for a quote inside it. */
    static List<String> splitCsv(String line, int lineNo) throws FleetException {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        boolean wasQuoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quoted) {
                if (ch == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        cur.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    cur.append(ch);
                }
            } else if (ch == ',') {
                out.add(cur.toString());
                cur.setLength(0);
                wasQuoted = false;
            } else if (ch == '"' && cur.toString().isBlank() && !wasQuoted) {
                quoted = true;
                wasQuoted = true;
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        if (quoted) throw bad(lineNo, "*", "a quoted field is not closed on this line (fields may not span lines)");
        out.add(cur.toString());
        return out;
    }

    private static List<Row> jsonRows(String content) throws FleetException {
        List<Row> rows = new ArrayList<>();
        try (JsonParser p = MAPPER.createParser(content)) {
            JsonToken t = p.nextToken();
            if (t == JsonToken.START_OBJECT) {
                // {"devices": [...]} wrapper: find the array, refuse anything else beside it
                while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    int line = p.currentLocation().getLineNr();
                    if (!name.equals("devices")) throw bad(line, name, "unknown field (expected \"devices\": [...])");
                    p.nextToken();
                    readArray(p, rows);
                }
                return rows;
            }
            readArray(p, rows);
            if (p.nextToken() != null) throw bad(p.currentLocation().getLineNr(), "*", "content follows the device array");
            return rows;
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw bad(line, "*", "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new FleetException(ErrorCode.INVENTORY_INVALID, "cannot read the inventory: " + e.getMessage());
        }
    }

    private static void readArray(JsonParser p, List<Row> rows) throws IOException, FleetException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw bad(p.currentLocation().getLineNr(), "*", "expected an array of devices or {\"devices\": [...]}");
        }
        while (p.nextToken() != JsonToken.END_ARRAY) {
            int line = p.currentLocation().getLineNr();
            if (p.currentToken() != JsonToken.START_OBJECT) throw bad(line, "*", "expected a device object");
            JsonNode node = MAPPER.readTree(p);
            Map<String, String> values = new LinkedHashMap<>();
            List<String> tags = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String k = f.getKey();
                JsonNode v = f.getValue();
                if (!FIELDS.contains(k)) throw bad(line, k, "unknown field (known: id, variant, region, corridor, site, tags)");
                if (k.equals("tags")) {
                    if (!v.isArray()) throw bad(line, "tags", "must be an array of strings");
                    for (JsonNode tag : v) {
                        if (!tag.isTextual()) throw bad(line, "tags", "must be an array of strings");
                        tags.add(tag.asText());
                    }
                } else if (v.isNull()) {
                    values.put(k, null);
                } else if (!v.isTextual()) {
                    throw bad(line, k, "must be a string");
                } else {
                    values.put(k, v.asText().isEmpty() ? null : v.asText());
                }
            }
            rows.add(new Row(line, values, tags));
        }
    }

    private static FleetException bad(int line, String field, String problem) {
        return new FleetException(ErrorCode.INVENTORY_INVALID, "inventory line " + line + ", field " + field + ": " + problem
                + "; nothing was imported", Map.of("line", line, "field", field));
    }
}
