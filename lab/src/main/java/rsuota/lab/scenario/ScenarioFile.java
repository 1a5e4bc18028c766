package rsuota.lab.scenario;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import rsuota.lab.scenario.Scenario.AgentSettings;
import rsuota.lab.scenario.Scenario.DeviceSpec;
import rsuota.lab.scenario.Scenario.Expect;

/**
 * Loads scenario files: the bundled ones by name ({@code happy-path}) from the lab jar's
 * {@code scenarios/} folder, any other by path. Checks everything it can before a run starts:
 * unknown fields, bad durations and sizes, devices and releases that do not exist, duplicate ids.
 *
 * <p>This class reads the document and its fleet and releases; {@link StepReader} reads the
 * timeline and {@link ExpectReader} the expectations, both against the {@link ScenarioNames} read here.
 */
public final class ScenarioFile {
    private ScenarioFile() {}

    /** The scenarios shipped with the lab, in the order the docs list them. */
    public static final List<String> BUNDLED = List.of("demo", "happy-path", "network-drops", "kpi-degradation", "boot-failure", "health-failure",
            "sev1-incident", "power-cuts", "incompatible-variant", "offline-device", "handover-power-cut", "rollback-after-completion",
            "rollback-needs-investigation", "inconclusive-hold", "outlier-device", "variant-slice", "control-group", "restart-mid-window", "offline-corridor",
            "technician-while-paused", "technician-lock-holds-rollback", "minor-release-throttled");

    private static final ObjectMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** A bundled name, or a path to a file. */
    public static Scenario load(String nameOrPath) throws ScenarioException {
        Path p = Path.of(nameOrPath);
        if (nameOrPath.endsWith(".json") || Files.exists(p)) {
            try {
                return parse(p.getFileName().toString(), Files.readAllBytes(p));
            } catch (NoSuchFileException e) {
                throw new ScenarioException("no scenario file " + p.toAbsolutePath() + " (bundled scenarios: " + String.join(", ", BUNDLED) + ")");
            } catch (IOException e) {
                throw new ScenarioException("cannot read " + p + ": " + e.getMessage(), e);
            }
        }
        String resource = "scenarios/" + nameOrPath + ".json";
        try (InputStream in = ScenarioFile.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new ScenarioException("no scenario '" + nameOrPath + "': not a file, and not one of the bundled scenarios ("
                        + String.join(", ", BUNDLED) + ")");
            }
            return parse(nameOrPath + ".json", in.readAllBytes());
        } catch (IOException e) {
            throw new ScenarioException("cannot read bundled scenario " + resource + ": " + e.getMessage(), e);
        }
    }

    public static Scenario parse(String file, byte[] content) throws ScenarioException {
        JsonNode root;
        try {
            root = JSON.readTree(content);
        } catch (JacksonException e) {
            throw new ScenarioException(file + ": not valid JSON: " + e.getOriginalMessage() + " (line " + e.getLocation().getLineNr() + ")");
        } catch (IOException e) {
            throw new ScenarioException(file + ": " + e.getMessage(), e);
        }
        JsonFields f = new JsonFields(file, "", root);
        String name = f.text("name", file.endsWith(".json") ? file.substring(0, file.length() - 5) : file);
        String title = f.text("title", name);
        String description = f.text("description", "");
        Duration timeLimit = f.duration("timeLimit", Duration.ofMinutes(3));
        Duration tick = f.duration("tick", Duration.ofMillis(250));
        AgentSettings agent = agent(f.object("agent"), f);
        Scenario.FactoryRelease factory = factory(f.object("factory"));
        List<DeviceSpec> devices = devices(f);
        Set<String> ids = new HashSet<>();
        for (DeviceSpec d : devices) {
            if (!ids.add(d.id())) throw f.error("fleet", "lists device " + d.id() + " twice");
        }
        List<Scenario.ReleaseSpec> releases = releases(f, factory);
        Set<String> versions = new HashSet<>();
        versions.add(factory.version());
        for (Scenario.ReleaseSpec r : releases) {
            if (!versions.add(r.version())) throw f.error("releases", "lists release " + r.version() + " twice (or it is the factory release)");
        }
        List<ObjectNode> cohorts = objects(f, "cohorts");
        List<ObjectNode> rollouts = objects(f, "rollouts");
        Set<String> rolloutReleases = new HashSet<>();
        for (int i = 0; i < rollouts.size(); i++) {
            JsonNode r = rollouts.get(i).get("release");
            if (r == null || !r.isTextual() || !versions.contains(r.textValue())) {
                throw f.error("rollouts[" + i + "].release", "must name one of the scenario's releases " + versions);
            }
            if (!rolloutReleases.add(r.textValue())) {
                throw f.error("rollouts[" + i + "].release", "names " + r.textValue() + " again: the lab runs one rollout per release");
            }
        }
        ScenarioNames names = new ScenarioNames(ids, rolloutReleases);
        List<Step> timeline = StepReader.timeline(f, names);
        Expect expect = ExpectReader.expect(f.object("expect"), f, names, timeline);
        f.done();
        return new Scenario(name, title, description, timeLimit, tick, agent, factory, devices, releases, cohorts, rollouts, timeline, expect);
    }

    private static AgentSettings agent(JsonFields a, JsonFields root) throws ScenarioException {
        JsonFields f = a != null ? a : new JsonFields(root.file(), "agent", JSON.createObjectNode());
        AgentSettings s = new AgentSettings(f.duration("heartbeat", Duration.ofSeconds(1)), f.duration("healthInterval", Duration.ofMillis(250)),
                f.duration("requiredPassing", Duration.ofSeconds(2)), f.duration("commitWindow", Duration.ofSeconds(30)),
                f.duration("retryBase", Duration.ofMillis(200)), f.duration("retryMax", Duration.ofSeconds(2)),
                f.duration("stallTimeout", Duration.ofSeconds(3)), f.duration("rollbackBudget", Duration.ofSeconds(60)),
                f.integer("bootTries", 3, 1, 9), f.size("slotSize", 1 << 20), f.duration("appInterval", Duration.ofMillis(500)),
                f.duration("hangTime", Duration.ofMillis(300)), f.duration("bootTime", Duration.ofMillis(300)));
        if (s.requiredPassing().compareTo(s.commitWindow()) > 0) throw f.error("requiredPassing", "is longer than commitWindow: no trial could pass");
        f.done();
        return s;
    }

    private static Scenario.FactoryRelease factory(JsonFields f) throws ScenarioException {
        if (f == null) return new Scenario.FactoryRelease("1.0.0", 256 << 10, 64 << 10, 1);
        Scenario.FactoryRelease r = new Scenario.FactoryRelease(f.text("version", "1.0.0"), f.size("imageSize", 256 << 10),
                (int) chunkSize(f), f.integer("format", 1, 1, 2));
        f.done();
        return r;
    }

    private static List<DeviceSpec> devices(JsonFields root) throws ScenarioException {
        List<DeviceSpec> out = new ArrayList<>();
        List<JsonNode> groups = root.list("fleet");
        if (groups.isEmpty()) throw root.error("fleet", "must list at least one device group");
        for (int i = 0; i < groups.size(); i++) {
            JsonFields g = root.element("fleet", i, groups.get(i));
            List<String> ids = g.strings("ids");
            String one = g.text("id", null);
            if (one != null) ids.add(0, one);
            if (ids.isEmpty()) throw g.error("ids", "is required (or id for one device)");
            String variant = g.requiredText("variant");
            String region = g.text("region", "north");
            String corridor = g.text("corridor", "");
            boolean offline = g.bool("offline", false);
            g.done();
            for (String id : ids) {
                if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) throw g.error("ids", "'" + id + "' is not a device id (letters, digits, . _ -)");
                out.add(new DeviceSpec(id, variant, region, corridor, offline));
            }
        }
        return out;
    }

    private static List<Scenario.ReleaseSpec> releases(JsonFields root, Scenario.FactoryRelease factory) throws ScenarioException {
        List<Scenario.ReleaseSpec> out = new ArrayList<>();
        List<JsonNode> list = root.list("releases");
        long security = 1;
        for (int i = 0; i < list.size(); i++) {
            JsonFields r = root.element("releases", i, list.get(i));
            String version = r.requiredText("version");
            List<String> compatible = r.strings("compatible");
            if (compatible.isEmpty()) throw r.error("compatible", "must list at least one variant");
            security = r.integer("securityVersion", (int) security + 1, 1, Integer.MAX_VALUE);
            int format = r.integer("format", 1, 1, 2);
            String base = r.text("base", null);
            long baseSize = -1;
            if (base != null) {
                if (format != 2) throw r.error("base", "needs \"format\": 2 (a unit reuses chunks of its running image only from a format 2 bundle)");
                if (base.equals(factory.version())) baseSize = factory.imageSize();
                for (Scenario.ReleaseSpec earlier : out) if (earlier.version().equals(base)) baseSize = earlier.imageSize();
                if (baseSize < 0) throw r.error("base", "names " + base + ", which is neither the factory release nor a release listed before this one");
            }
            long imageSize = r.size("imageSize", base != null ? baseSize : 384 << 10);
            if (base != null && imageSize != baseSize) {
                throw r.error("imageSize", "is " + imageSize + " but the image of base " + base + " is " + baseSize + " bytes; leave it out or make them equal");
            }
            double change = base == null ? 0 : r.decimal("change", 0.03, 0.0, 0.9);
            if (base == null && r.has("change")) throw r.error("change", "needs a base release to change");
            Scenario.ReleaseSpec spec = new Scenario.ReleaseSpec(version, r.text("previousStable", null), compatible, security,
                    imageSize, chunkSize(r), FaultProfile.parse(r.object("profile")), r.text("notes", null), format, base, change);
            r.done();
            if (spec.imageSize() < FaultProfile.HEADER_BYTES) throw r.error("imageSize", "must be at least " + FaultProfile.HEADER_BYTES + " bytes (the fault profile header)");
            out.add(spec);
        }
        return out;
    }

    /** The bundle format's range: 64 KiB .. 64 MiB (docs/bundle-format.md). */
    private static int chunkSize(JsonFields f) throws ScenarioException {
        long c = f.size("chunkSize", 64 << 10);
        if (c < 64 << 10 || c > 64 << 20) throw f.error("chunkSize", "must be within 64KiB..64MiB, the bundle format's chunk sizes");
        return (int) c;
    }

    private static List<ObjectNode> objects(JsonFields root, String key) throws ScenarioException {
        List<ObjectNode> out = new ArrayList<>();
        List<JsonNode> list = root.list(key);
        for (int i = 0; i < list.size(); i++) {
            if (!list.get(i).isObject()) throw root.error(key + "[" + i + "]", "must be an object (the REST request body)");
            out.add((ObjectNode) list.get(i));
        }
        return out;
    }
}
