package rsuota.lab.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * How a release misbehaves in the lab. It travels inside the signed image itself: the first
 * {@value #HEADER_BYTES} bytes of the rootfs image are {@code {"rsuSim":{...}}} and a newline,
 * padded with spaces, so the roadside application simulated on a device reads it from the slot
 * that booted, and a scenario's bad release is a real signed bundle that really misbehaves.
 *
 * @param variants    variants the faults apply to; empty: every variant
 * @param bootHang    the release never reaches userspace: each trial boot hangs until the watchdog
 *                    resets the box, and the bootloader falls back when the tries run out
 * @param healthFails the application comes up broken (availability 0), so the agent's KPI health
 *                    probe fails in the commit window and the agent rolls back by itself
 * @param degrade     service KPIs that turn bad some time after boot (after the health commit), or null
 */
public record FaultProfile(List<String> variants, boolean bootHang, boolean healthFails, Degrade degrade) {

    /** The header's size: a small fixed prefix, so the app reads one block of the slot. */
    public static final int HEADER_BYTES = 4096;
    static final String MAGIC = "{\"rsuSim\":";

    public static final FaultProfile NOMINAL = new FaultProfile(List.of(), false, false, null);

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * KPIs a degraded application reports, reached linearly over {@code ramp} starting {@code after}
     * the boot; a null KPI keeps its nominal value. {@code recoverAfter} (null: never) is how long after
     * {@code after} the application is healthy again: a dip that passes, such as a congested backhaul.
     */
    public record Degrade(Duration after, Duration ramp, Double availability, Double lagMedianMs, Double lagP95Ms, Double droppedRatio,
                          Duration recoverAfter) {}

    public FaultProfile {
        variants = variants == null ? List.of() : List.copyOf(variants);
    }

    /** Whether the faults apply to a device of {@code variant}. */
    public boolean appliesTo(String variant) {
        return variants.isEmpty() || variants.contains(variant);
    }

    public boolean nominal() {
        return !bootHang && !healthFails && degrade == null;
    }

    /** What a person reads in the report: "boot hangs (rsu-b2)", "availability 0.97 after 6 s". */
    public String describe() {
        if (nominal()) return "nominal";
        StringBuilder sb = new StringBuilder();
        if (bootHang) sb.append("boot hangs");
        if (healthFails) sb.append(sb.length() > 0 ? ", " : "").append("health probe fails");
        if (degrade != null) {
            sb.append(sb.length() > 0 ? ", " : "").append("degrades after ").append(Units.human(degrade.after())).append(':');
            if (degrade.availability() != null) sb.append(" availability ").append(degrade.availability());
            if (degrade.lagMedianMs() != null) sb.append(" lag median ").append(Math.round(degrade.lagMedianMs())).append(" ms");
            if (degrade.lagP95Ms() != null) sb.append(" lag p95 ").append(Math.round(degrade.lagP95Ms())).append(" ms");
            if (degrade.droppedRatio() != null) sb.append(" dropped ").append(degrade.droppedRatio());
            if (degrade.recoverAfter() != null) sb.append("; recovers ").append(Units.human(degrade.recoverAfter())).append(" later");
        }
        if (!variants.isEmpty()) sb.append(" (only ").append(String.join(", ", variants)).append(')');
        return sb.toString();
    }

    /** The image header: {@value #MAGIC}...{@code }}\n} padded with spaces to {@value #HEADER_BYTES} bytes. */
    public byte[] header() {
        ObjectNode root = JSON.createObjectNode();
        root.set("rsuSim", toJson());
        byte[] text = (root.toString() + "\n").getBytes(StandardCharsets.UTF_8);
        if (text.length > HEADER_BYTES) throw new IllegalStateException("fault profile header exceeds " + HEADER_BYTES + " bytes");
        byte[] out = new byte[HEADER_BYTES];
        Arrays.fill(out, (byte) ' ');
        System.arraycopy(text, 0, out, 0, text.length);
        return out;
    }

    /**
     * Reads the profile of the release in {@code slotFile}: its header if the image has one, else
     * {@link #NOMINAL} (a factory image or an empty slot runs a healthy application).
     */
    public static FaultProfile ofSlot(Path slotFile) throws IOException {
        byte[] head = new byte[HEADER_BYTES];
        int n = 0;
        try (InputStream in = Files.newInputStream(slotFile)) {
            // Bounded: at most HEADER_BYTES bytes, and a read of -1 ends the loop.
            while (n < head.length) {
                int r = in.read(head, n, head.length - n);
                if (r < 0) break;
                n += r;
            }
        } catch (NoSuchFileException e) {
            return NOMINAL;
        }
        String text = new String(head, 0, n, StandardCharsets.UTF_8);
        if (!text.startsWith(MAGIC)) return NOMINAL;
        int end = text.indexOf('\n');
        if (end < 0) throw new IOException(slotFile + ": fault profile header has no end within " + HEADER_BYTES + " bytes");
        try {
            return fromJson(JSON.readTree(text.substring(0, end)).get("rsuSim"));
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException(slotFile + ": fault profile header is not valid: " + e.getMessage(), e);
        }
    }

    ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        if (!variants.isEmpty()) o.set("variants", JSON.valueToTree(variants));
        if (bootHang) o.put("bootHang", true);
        if (healthFails) o.put("healthFails", true);
        if (degrade != null) {
            ObjectNode d = o.putObject("degrade");
            d.put("after", Units.config(degrade.after()));
            d.put("ramp", Units.config(degrade.ramp()));
            if (degrade.recoverAfter() != null) d.put("recoverAfter", Units.config(degrade.recoverAfter()));
            if (degrade.availability() != null) d.put("availability", degrade.availability());
            if (degrade.lagMedianMs() != null) d.put("lagMedianMs", degrade.lagMedianMs());
            if (degrade.lagP95Ms() != null) d.put("lagP95Ms", degrade.lagP95Ms());
            if (degrade.droppedRatio() != null) d.put("droppedRatio", degrade.droppedRatio());
        }
        return o;
    }

    /** The header's JSON, written by {@link #header()}: trusted lab data, read without the scenario's strictness. */
    static FaultProfile fromJson(JsonNode o) {
        if (o == null || !o.isObject()) throw new IllegalArgumentException("rsuSim is not an object");
        List<String> variants = o.has("variants") ? JSON.convertValue(o.get("variants"), JSON.getTypeFactory().constructCollectionType(List.class, String.class)) : List.of();
        Degrade degrade = null;
        JsonNode d = o.get("degrade");
        if (d != null && d.isObject()) {
            degrade = new Degrade(Units.duration(d.path("after").asText("0s")), Units.duration(d.path("ramp").asText("0s")),
                    num(d, "availability"), num(d, "lagMedianMs"), num(d, "lagP95Ms"), num(d, "droppedRatio"),
                    d.hasNonNull("recoverAfter") ? Units.duration(d.get("recoverAfter").asText()) : null);
        }
        return new FaultProfile(variants, o.path("bootHang").asBoolean(false), o.path("healthFails").asBoolean(false), degrade);
    }

    private static Double num(JsonNode n, String k) {
        return n.hasNonNull(k) ? n.get(k).doubleValue() : null;
    }

    /** A profile as a scenario file writes it (strict: unknown fields and bad values are refused). */
    static FaultProfile parse(JsonFields f) throws ScenarioException {
        if (f == null) return NOMINAL;
        List<String> variants = f.strings("variants");
        boolean hang = f.bool("bootHang", false);
        boolean health = f.bool("healthFails", false);
        Degrade degrade = null;
        JsonFields d = f.object("degrade");
        if (d != null) {
            degrade = new Degrade(d.requiredDuration("after"), d.duration("ramp", Duration.ZERO),
                    d.decimal("availability", null, 0, 1), d.decimal("lagMedianMs", null, 0, 1e7),
                    d.decimal("lagP95Ms", null, 0, 1e7), d.decimal("droppedRatio", null, 0, 1), d.duration("recoverAfter", null));
            if (degrade.recoverAfter() != null && degrade.recoverAfter().compareTo(degrade.ramp()) < 0) {
                throw d.error("recoverAfter", "is shorter than ramp: the KPIs would recover before they finished degrading");
            }
            d.done();
        }
        f.done();
        return new FaultProfile(variants, hang, health, degrade);
    }
}
