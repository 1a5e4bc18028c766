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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import rsuota.lab.scenario.Scenario.AgentSettings;
import rsuota.lab.scenario.Scenario.DeviceSpec;
import rsuota.lab.scenario.Scenario.Expect;
import rsuota.lab.scenario.Scenario.Targets;

/**
 * Loads scenario files: the bundled ones by name ({@code happy-path}) from the lab jar's
 * {@code scenarios/} folder, any other by path. Checks everything it can before a run starts:
 * unknown fields, bad durations and sizes, devices and releases that do not exist, duplicate ids.
 */
public final class ScenarioFile {
    private ScenarioFile() {}

    /** The scenarios shipped with the lab, in the order the docs list them. */
    public static final List<String> BUNDLED = List.of("demo", "happy-path", "network-drops", "kpi-degradation", "boot-failure", "health-failure",
            "sev1-incident", "power-cuts", "incompatible-variant", "offline-device", "handover-power-cut", "rollback-after-completion",
            "rollback-needs-investigation", "inconclusive-hold", "outlier-device", "variant-slice", "control-group", "restart-mid-window", "offline-corridor");

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
        List<Step> timeline = timeline(f, ids, rolloutReleases);
        Expect expect = expect(f.object("expect"), f, ids, rolloutReleases, timeline);
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
        if (f == null) return new Scenario.FactoryRelease("1.0.0", 256 << 10, 64 << 10);
        Scenario.FactoryRelease r = new Scenario.FactoryRelease(f.text("version", "1.0.0"), f.size("imageSize", 256 << 10),
                (int) chunkSize(f));
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
            Scenario.ReleaseSpec spec = new Scenario.ReleaseSpec(version, r.text("previousStable", null), compatible, security,
                    r.size("imageSize", 384 << 10), chunkSize(r), FaultProfile.parse(r.object("profile")), r.text("notes", null));
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

    private static List<Step> timeline(JsonFields root, Set<String> devices, Set<String> releases) throws ScenarioException {
        List<Step> out = new ArrayList<>();
        List<JsonNode> list = root.list("timeline");
        Set<String> stepIds = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            JsonFields s = root.element("timeline", i, list.get(i));
            String id = s.text("id", "step-" + (i + 1));
            if (!stepIds.add(id)) throw s.error("id", "'" + id + "' is used by an earlier step");
            Step.Trigger trigger = trigger(s, devices, releases);
            Duration delay = s.duration("delay", Duration.ZERO);
            Targets targets = targets(s, "devices", devices);
            Step.Action action = action(s, releases);
            if (action.onDevices() && !s.has("devices")) throw s.error("devices", "is required for '" + action.verb() + "' (\"all\" or a list of ids)");
            s.done();
            out.add(new Step(id, trigger, delay, targets, action));
        }
        return out;
    }

    private static Step.Trigger trigger(JsonFields s, Set<String> devices, Set<String> releases) throws ScenarioException {
        Duration at = s.duration("at", null);
        JsonFields w = s.object("when");
        if ((at == null) == (w == null)) throw s.error("at", "or 'when' is required, not both (e.g. \"at\": \"5s\")");
        if (at != null) return new Step.At(at);
        String device = w.text("device", null);
        String release = w.text("release", null);
        String state = w.requiredText("state");
        String phase = w.text("phase", null);
        w.done();
        if (device != null) {
            if (!devices.contains(device)) throw w.error("device", "'" + device + "' is not in the fleet");
            return new Step.DeviceIn(device, state);
        }
        if (phase == null && state.startsWith("hold:")) {
            if (release == null || !releases.contains(release)) throw w.error("release", "must name a release with a rollout " + releases);
            return new Step.HoldIn(release, state.substring(5));
        }
        if (release == null || !releases.contains(release)) throw w.error("release", "must name a release with a rollout " + releases + " (or give 'device')");
        return phase == null ? new Step.RolloutIn(release, state) : new Step.PhaseIn(release, phase, state);
    }

    private static Targets targets(JsonFields s, String key, Set<String> devices) throws ScenarioException {
        JsonNode n = s.raw(key);
        if (n == null || n.isNull()) return new Targets(false, List.of());
        if (n.isTextual() && n.textValue().equals("all")) return Targets.ALL;
        List<String> ids = s.strings(key);
        for (String id : ids) if (!devices.contains(id)) throw s.error(key, "'" + id + "' is not in the fleet");
        return new Targets(false, ids);
    }

    private static Step.Path path(JsonFields s) throws ScenarioException {
        String p = s.text("path", "both");
        try {
            return Step.Path.valueOf(p.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw s.error("path", "'" + p + "' is not broker, bundles or both");
        }
    }

    private static Step.Action action(JsonFields s, Set<String> releases) throws ScenarioException {
        String verb = s.requiredText("do");
        return switch (verb) {
            case "cut" -> {
                long every = s.size("every", 0);
                long at = s.size("atBytes", 0);
                if (every > 0 && at > 0) throw s.error("every", "and atBytes exclude each other");
                yield new Step.Cut(every, at, s.integer("times", at > 0 ? 1 : 0, 0, 1_000_000));
            }
            case "stall" -> new Step.Stall(s.requiredDuration("for"));
            case "throttle" -> {
                long rate = s.size("bytesPerSecond", 0);
                if (rate <= 0) throw s.error("bytesPerSecond", "is required and positive (e.g. \"64KiB\")");
                yield new Step.Throttle(rate, s.duration("for", null));
            }
            case "partition" -> new Step.Partition(path(s), s.duration("for", null));
            case "heal" -> new Step.Heal(path(s));
            case "flap" -> new Step.Flap(path(s), s.duration("down", Duration.ofSeconds(1)), s.duration("up", Duration.ofSeconds(1)),
                    s.integer("times", 3, 1, 1000));
            case "power-cut" -> new Step.PowerCut(s.duration("off", Duration.ofSeconds(1)), s.bool("inHandover", false));
            case "power-off" -> new Step.PowerOff();
            case "power-on" -> new Step.PowerOn();
            case "start" -> new Step.Start(release(s, releases), s.text("reason", null));
            case "advance" -> new Step.Advance(release(s, releases), s.text("reason", null));
            case "pause" -> new Step.Pause(release(s, releases), s.requiredText("reason"));
            case "resume" -> new Step.Resume(release(s, releases), s.requiredText("reason"));
            case "rollback" -> new Step.Rollback(release(s, releases), s.text("scope", "rollout"), s.has("phase") ? s.integer("phase", 0, 0, 100) : null,
                    s.text("cohort", null), s.text("device", null), s.requiredText("reason"));
            case "degrade" -> {
                Step.Degrade d = new Step.Degrade(s.decimal("availability", null, 0, 1), s.decimal("lagMedianMs", null, 0, 1e7),
                        s.decimal("lagP95Ms", null, 0, 1e7), s.decimal("droppedRatio", null, 0, 1), s.requiredDuration("for"));
                if (d.availability() == null && d.lagMedianMs() == null && d.lagP95Ms() == null && d.droppedRatio() == null) {
                    throw s.error("availability", "or another KPI is required: what the units' application degrades to");
                }
                yield d;
            }
            case "extend" -> new Step.Extend(release(s, releases), s.requiredDuration("by"), s.requiredText("reason"));
            case "clear" -> new Step.Clear(release(s, releases), s.requiredText("device"), s.requiredText("reason"));
            case "restart-controller" -> new Step.RestartController(s.duration("off", Duration.ofSeconds(1)));
            case "incident" -> new Step.Incident(s.requiredText("incident"), s.text("severity", "sev1"), s.text("state", "open"),
                    s.text("release", null), s.text("title", null));
            default -> throw s.error("do", "'" + verb + "' is not an action (cut, stall, throttle, partition, heal, flap, power-cut, power-off, "
                    + "power-on, start, advance, pause, resume, rollback, incident, degrade, extend, clear, restart-controller)");
        };
    }

    private static String release(JsonFields s, Set<String> releases) throws ScenarioException {
        String r = s.requiredText("release");
        if (!releases.contains(r)) throw s.error("release", "'" + r + "' has no rollout in this scenario " + releases);
        return r;
    }

    private static Expect expect(JsonFields e, JsonFields root, Set<String> devices, Set<String> releases, List<Step> timeline)
            throws ScenarioException {
        if (e == null) throw root.error("expect", "is required: a scenario without expectations proves nothing");
        Map<String, String> rollouts = new LinkedHashMap<>();
        Map<String, Scenario.Timing> rolloutTimes = new LinkedHashMap<>();
        JsonFields r = e.object("rollouts");
        if (r != null) {
            for (String k : keys(r)) {
                if (!releases.contains(k)) throw r.error(k, "is not a release with a rollout " + releases);
                if (r.raw(k) != null && r.raw(k).isObject()) {
                    // {"2.0": {"state": "completed", "by": "40s"}}: the state with its timing.
                    JsonFields one = r.object(k);
                    rollouts.put(k, one.requiredText("state"));
                    rolloutTimes.put(k, timing(one));
                    one.done();
                } else {
                    rollouts.put(k, r.requiredText(k));
                }
            }
            r.done();
        }
        List<Scenario.PhaseExpect> phases = new ArrayList<>();
        List<JsonNode> pl = e.list("phases");
        for (int i = 0; i < pl.size(); i++) {
            JsonFields p = e.element("phases", i, pl.get(i));
            phases.add(new Scenario.PhaseExpect(release(p, releases), p.requiredText("phase"), p.requiredText("state"), timing(p)));
            p.done();
        }
        List<Scenario.DeviceExpect> devs = new ArrayList<>();
        List<JsonNode> dl = e.list("devices");
        for (int i = 0; i < dl.size(); i++) {
            JsonFields d = e.element("devices", i, dl.get(i));
            if (!d.has("devices")) throw d.error("devices", "is required (\"all\" or a list of ids)");
            String controller = d.text("controller", null);
            String release = d.text("release", null);
            if (controller != null && release == null) throw d.error("release", "is required with 'controller': the rollout whose view of the unit is checked");
            if (release != null && !releases.contains(release)) throw d.error("release", "'" + release + "' has no rollout in this scenario " + releases);
            devs.add(new Scenario.DeviceExpect(targets(d, "devices", devices), d.text("state", null), d.strings("running"), d.text("error", null),
                    release, controller, timing(d)));
            d.done();
        }
        Set<String> stepIds = new HashSet<>();
        timeline.forEach(s -> stepIds.add(s.id()));
        List<Scenario.PauseExpect> pauses = new ArrayList<>();
        List<JsonNode> pal = e.list("pauses");
        for (int i = 0; i < pal.size(); i++) {
            JsonFields p = e.element("pauses", i, pal.get(i));
            String after = p.text("afterStep", null);
            if (after != null && !stepIds.contains(after)) throw p.error("afterStep", "'" + after + "' is not the id of a timeline step");
            Map<String, String> fields = new LinkedHashMap<>();
            JsonFields fl = p.object("fields");
            if (fl != null) {
                for (String k : keys(fl)) {
                    if (!k.startsWith("/")) throw fl.error(k, "is not a JSON pointer into the pause event (e.g. \"/findings/0/offending/0\")");
                    fields.put(k, fl.requiredText(k));
                }
                fl.done();
            }
            pauses.add(new Scenario.PauseExpect(release(p, releases), p.text("cause", "rule"), p.text("rule", null), p.text("cohort", null), after,
                    p.duration("within", null), p.strings("mentions"), fields, timing(p)));
            p.done();
        }
        List<Scenario.BlockedExpect> blocked = new ArrayList<>();
        List<JsonNode> bl = e.list("blocked");
        for (int i = 0; i < bl.size(); i++) {
            JsonFields b = e.element("blocked", i, bl.get(i));
            String device = b.requiredText("device");
            if (!devices.contains(device)) throw b.error("device", "'" + device + "' is not in the fleet");
            blocked.add(new Scenario.BlockedExpect(release(b, releases), device, b.text("variant", null)));
            b.done();
        }
        List<Scenario.AlertExpect> alerts = new ArrayList<>();
        List<JsonNode> al = e.list("alerts");
        for (int i = 0; i < al.size(); i++) {
            JsonFields a = e.element("alerts", i, al.get(i));
            String device = a.text("device", null);
            if (device != null && !devices.contains(device)) throw a.error("device", "'" + device + "' is not in the fleet");
            alerts.add(new Scenario.AlertExpect(release(a, releases), a.requiredText("kind"), device, timing(a)));
            a.done();
        }
        Scenario.Never never = never(e.object("never"), devices, releases);
        if (never.pauses() && !pauses.isEmpty()) throw e.error("never.pauses", "contradicts the pauses listed in expect.pauses");
        Expect x = new Expect(rollouts, rolloutTimes, phases, devs, pauses, blocked, alerts, never, e.bool("bytesWithinBound", false),
                e.integer("minCuts", 0, 0, 1_000_000), e.strings("audit"), e.duration("holdFor", Duration.ofSeconds(1)));
        e.done();
        return x;
    }

    private static Scenario.Never never(JsonFields n, Set<String> devices, Set<String> releases) throws ScenarioException {
        if (n == null) return Scenario.Never.NOTHING;
        boolean pauses = n.bool("pauses", false);
        List<String> alerts = n.strings("alerts");
        Map<String, List<String>> rollouts = new LinkedHashMap<>();
        JsonFields r = n.object("rollouts");
        if (r != null) {
            for (String k : keys(r)) {
                if (!releases.contains(k)) throw r.error(k, "is not a release with a rollout " + releases);
                rollouts.put(k, r.strings(k));
            }
            r.done();
        }
        List<Scenario.DeviceNever> devs = new ArrayList<>();
        List<JsonNode> dl = n.list("devices");
        for (int i = 0; i < dl.size(); i++) {
            JsonFields d = n.element("devices", i, dl.get(i));
            if (!d.has("devices")) throw d.error("devices", "is required (\"all\" or a list of ids)");
            Scenario.DeviceNever dn = new Scenario.DeviceNever(targets(d, "devices", devices), d.text("state", null), d.text("running", null));
            if (dn.state() == null && dn.running() == null) throw d.error("state", "or 'running' is required: what these units must never do");
            devs.add(dn);
            d.done();
        }
        Scenario.Never out = new Scenario.Never(pauses, alerts, rollouts, devs);
        n.done();
        return out;
    }

    /** {@code notBefore} / {@code by}: lab times, the first no later than the second. */
    private static Scenario.Timing timing(JsonFields f) throws ScenarioException {
        Duration notBefore = f.duration("notBefore", null);
        Duration by = f.duration("by", null);
        if (notBefore != null && by != null && notBefore.compareTo(by) > 0) throw f.error("notBefore", "is later than 'by': nothing could satisfy both");
        return notBefore == null && by == null ? Scenario.Timing.ANY : new Scenario.Timing(notBefore, by);
    }

    private static List<String> keys(JsonFields f) {
        List<String> keys = new ArrayList<>();
        f.node().fieldNames().forEachRemaining(keys::add);
        return keys;
    }
}
