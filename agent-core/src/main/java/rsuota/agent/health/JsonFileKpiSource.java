package rsuota.agent.health;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import rsuota.wire.MqttState.Kpis;

/**
 * KPIs from a JSON file the application rewrites now and then, e.g.
 * {@code {"kpis": {"availability": 0.999, "lagMedianMs": 120, ...}}}. Fields are dotted paths
 * ({@code kpis.availability}); each must be a number (the string "NaN" is accepted as NaN, since
 * JSON has no NaN literal).
 */
public record JsonFileKpiSource(Path file, String availability, String lagMedian, String lagP95, String droppedRatio,
                                double lagToMs) implements KpiSource {

    /** A KPI file is a few hundred bytes; a huge one is not it. */
    static final long MAX_SIZE = 1024 * 1024;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Override
    public Kpis read() throws IOException {
        JsonNode root;
        try {
            if (Files.size(file) > MAX_SIZE) throw new IOException("KPI file " + file + " is larger than " + MAX_SIZE + " bytes");
            root = MAPPER.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new IOException("KPI file " + file + " does not exist (is the application running?)", e);
        } catch (JacksonException e) {
            throw new IOException("KPI file " + file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        return new Kpis(
                number(root, availability),
                number(root, lagMedian) * lagToMs,
                number(root, lagP95) * lagToMs,
                number(root, droppedRatio));
    }

    private double number(JsonNode root, String path) throws IOException {
        JsonNode n = root;
        for (String part : path.split("\\.")) {
            n = n == null ? null : n.get(part);
        }
        if (n == null || n.isNull()) throw new IOException("KPI file " + file + " has no field '" + path + "'");
        if (n.isNumber()) return n.doubleValue();
        if (n.isTextual() && n.textValue().equals("NaN")) return Double.NaN;
        throw new IOException("KPI file " + file + ": field '" + path + "' is " + n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)
                + " " + n + ", not a number");
    }

    @Override
    public String describe() {
        return "json " + file;
    }
}
