package rsuota.lab.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads one JSON object of a scenario file field by field and remembers which fields it read, so
 * that {@link #done()} can refuse a misspelt key instead of silently ignoring it (a typo in a
 * fault's "evry" must not turn a fault scenario into a happy path).
 */
final class JsonFields {
    private final String file;
    private final String where;
    private final ObjectNode node;
    private final Set<String> read = new LinkedHashSet<>();

    JsonFields(String file, String where, JsonNode node) throws ScenarioException {
        this.file = file;
        this.where = where;
        if (node == null || !node.isObject()) throw new ScenarioException(file + ": " + where + " must be a JSON object");
        this.node = (ObjectNode) node;
    }

    String where(String key) {
        return where.isEmpty() ? key : where + "." + key;
    }

    ScenarioException error(String key, String what) {
        return new ScenarioException(file + ": " + where(key) + " " + what);
    }

    boolean has(String key) {
        read.add(key);
        JsonNode n = node.get(key);
        return n != null && !n.isNull();
    }

    JsonNode raw(String key) {
        read.add(key);
        return node.get(key);
    }

    String text(String key, String dflt) throws ScenarioException {
        JsonNode n = raw(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isTextual()) throw error(key, "must be a string, not " + n);
        return n.textValue();
    }

    String requiredText(String key) throws ScenarioException {
        String v = text(key, null);
        if (v == null || v.isBlank()) throw error(key, "is required");
        return v;
    }

    Duration duration(String key, Duration dflt) throws ScenarioException {
        String v = text(key, null);
        if (v == null) return dflt;
        try {
            return Units.duration(v);
        } catch (IllegalArgumentException e) {
            throw error(key, e.getMessage());
        }
    }

    Duration requiredDuration(String key) throws ScenarioException {
        Duration d = duration(key, null);
        if (d == null) throw error(key, "is required (e.g. 5s)");
        return d;
    }

    /** A size as text ("64KiB") or a plain number of bytes. */
    long size(String key, long dflt) throws ScenarioException {
        JsonNode n = raw(key);
        if (n == null || n.isNull()) return dflt;
        if (n.isIntegralNumber() && n.longValue() >= 0) return n.longValue();
        if (!n.isTextual()) throw error(key, "must be a size such as \"64KiB\" or a number of bytes, not " + n);
        try {
            return Units.size(n.textValue());
        } catch (IllegalArgumentException e) {
            throw error(key, e.getMessage());
        }
    }

    int integer(String key, int dflt, int min, int max) throws ScenarioException {
        JsonNode n = raw(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isIntegralNumber() || n.longValue() < min || n.longValue() > max) throw error(key, "must be a whole number in " + min + ".." + max);
        return n.intValue();
    }

    Double decimal(String key, Double dflt, double min, double max) throws ScenarioException {
        JsonNode n = raw(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isNumber() || n.doubleValue() < min || n.doubleValue() > max) throw error(key, "must be a number in " + min + ".." + max);
        return n.doubleValue();
    }

    boolean bool(String key, boolean dflt) throws ScenarioException {
        JsonNode n = raw(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isBoolean()) throw error(key, "must be true or false");
        return n.booleanValue();
    }

    List<String> strings(String key) throws ScenarioException {
        JsonNode n = raw(key);
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) return out;
        if (n.isTextual()) {
            out.add(n.textValue());
            return out;
        }
        if (!n.isArray()) throw error(key, "must be a list of strings");
        for (JsonNode e : n) {
            if (!e.isTextual()) throw error(key, "must be a list of strings, found " + e);
            out.add(e.textValue());
        }
        return out;
    }

    List<JsonNode> list(String key) throws ScenarioException {
        JsonNode n = raw(key);
        List<JsonNode> out = new ArrayList<>();
        if (n == null || n.isNull()) return out;
        if (!n.isArray()) throw error(key, "must be a list");
        n.forEach(out::add);
        return out;
    }

    JsonFields object(String key) throws ScenarioException {
        JsonNode n = raw(key);
        if (n == null || n.isNull()) return null;
        return new JsonFields(file, where(key), n);
    }

    JsonFields element(String key, int i, JsonNode n) throws ScenarioException {
        return new JsonFields(file, where(key) + "[" + i + "]", n);
    }

    /** Refuses any key that was not read: the list of known keys says what was meant. */
    void done() throws ScenarioException {
        Iterator<String> names = node.fieldNames();
        Set<String> unknown = new TreeSet<>();
        while (names.hasNext()) {
            String k = names.next();
            if (!read.contains(k)) unknown.add(k);
        }
        if (!unknown.isEmpty()) {
            throw new ScenarioException(file + ": " + (where.isEmpty() ? "the scenario" : where) + " has unknown field(s) " + unknown
                    + "; known here: " + read);
        }
    }

    ObjectNode node() {
        return node;
    }

    /** The object's keys in file order, without marking them read: for objects keyed by name. */
    List<String> keys() {
        List<String> keys = new ArrayList<>();
        node.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    String file() {
        return file;
    }
}
