package rsuota.lab.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.fixtures.pki.TestPki;
import rsuota.lab.control.LabController;
import rsuota.lab.control.Releases;
import rsuota.lab.control.Rest;
import rsuota.lab.device.SimulatedDevice;
import rsuota.lab.scenario.FaultProfile;
import rsuota.lab.scenario.Scenario;
import rsuota.lab.scenario.Step;
import rsuota.lab.scenario.Units;

/**
 * Runs one scenario end to end: a real controller (own data directory, embedded broker or
 * Mosquitto), real signed releases, a fleet of real agents over simulated hardware with their own
 * network paths, the timeline of faults and operator actions, and the expectations, checked until
 * they all hold for the scenario's {@code holdFor} or its time limit passes.
 *
 * <p>Setup, in order: PKI and keyring, controller, releases (built and registered), inventory,
 * devices (created, powered on unless offline, registered with the controller), cohorts, rollouts.
 * Then the lab clock starts and the timeline plays.
 */
public final class LabRun {
    private static final Logger log = LoggerFactory.getLogger(LabRun.class);

    /** A file in every work directory the lab made: the only directories it ever deletes. */
    public static final String WORK_MARKER = ".rsu-lab-work";

    /** How often the runner looks at the fleet and the controller. */
    static final Duration STEP = Duration.ofMillis(200);
    /** Cohort KPI samples for the charts. */
    static final Duration SAMPLE = Duration.ofSeconds(1);
    /** Every online device must have reported its first state within this; they connect in a second or two. */
    static final Duration REGISTRATION = Duration.ofSeconds(60);
    /**
     * The agent's first header request (agent-core Installer.FIRST_HEADER_FETCH): header plus the
     * start of the payload, fetched once per download and not reused by the chunk fetches.
     */
    static final long HEADER_FETCH = 32 * 1024;
    /** HTTP response headers per range request: Jetty's are ~250 bytes; generous so the bound checks payload bytes. */
    static final long HTTP_FRAMING = 1024;

    /**
     * @param work      the run's directory (controller data, devices, bundles); must be empty or absent
     * @param mosquitto a real Mosquitto instead of the embedded broker
     * @param view      where the run is shown as it goes
     */
    public record Options(Path work, boolean mosquitto, LabView view) {}

    private final Scenario s;
    private final Options o;
    private final Clock clock = Clock.systemUTC();
    private final Timeline timeline = new Timeline(clock);
    private final List<String> stepFailures = new ArrayList<>();
    private final Map<String, Long> rolloutIds = new LinkedHashMap<>();
    private final Map<String, JsonNode> rollouts = new LinkedHashMap<>();
    private final Map<String, List<JsonNode>> excluded = new HashMap<>();
    private final Map<String, List<String>> cohortOf = new LinkedHashMap<>();
    private final List<RunReport.Cohort> cohorts = new ArrayList<>();
    private final Map<String, Releases.Built> built = new LinkedHashMap<>();
    private final Map<String, Set<String>> downloads = new HashMap<>();
    private final Map<String, SimulatedDevice.Status> lastStatus = new HashMap<>();
    private final Map<String, String> lastRolloutLine = new HashMap<>();
    private final Set<Long> seenPauses = new LinkedHashSet<>();
    private final Set<String> seenBlocked = new LinkedHashSet<>();
    private final Map<String, RunReport.Series> series = new LinkedHashMap<>();
    private final List<RunReport.StateChange> history = new ArrayList<>();
    private final List<RunReport.StateChange> phaseHistory = new ArrayList<>();
    private final Map<String, String> lastShown = new HashMap<>();
    private final Map<String, Instant> triggeredAt = new HashMap<>();
    private final Map<String, Instant> fired = new LinkedHashMap<>();
    private LabController controller;
    private Fleet fleet;
    private ScheduledExecutorService scheduler;
    private Instant lastSample = Instant.EPOCH;
    private Steps steps;

    private LabRun(Scenario s, Options o) {
        this.s = s;
        this.o = o;
    }

    /** Runs the scenario and returns its report; throws only when the lab itself cannot be set up. */
    public static RunReport run(Scenario s, Options o) throws IOException {
        LabRun r = new LabRun(s, o);
        Instant started = r.clock.instant();
        try {
            r.setUp();
            List<String> failures = r.play();
            return r.report(started, failures);
        } finally {
            r.tearDown();
        }
    }

    private void note(String line) {
        log.info(line);
        o.view().note(line);
    }

    // ---------------------------------------------------------------- setup

    private void setUp() throws IOException {
        Path work = o.work();
        Files.createDirectories(work);
        try (var list = Files.list(work)) {
            if (list.findAny().isPresent()) throw new IOException("lab work directory " + work + " is not empty");
        }
        // Marks the directory as the lab's own, so a later run may clear it (and nothing else).
        Files.writeString(work.resolve(WORK_MARKER), "made by scripts/lab; removed with its directory by the next run\n");
        scheduler = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "lab-scheduler");
            t.setDaemon(true);
            return t;
        });
        TestPki pki = new TestPki();
        Path keyring = work.resolve("keyring.pem");
        Files.writeString(keyring, TestPki.pem("CERTIFICATE", encoded(pki)));
        note("starting the fleet controller" + (o.mosquitto() ? " with Mosquitto" : " with its embedded MQTT broker"));
        controller = LabController.start(work.resolve("controller"), keyring, s.tick(), o.mosquitto());
        timeline.add("lab", "lab", "controller at " + controller.uri() + ", " + controller.brokerDescription());

        note("building and signing " + (s.releases().size() + 1) + " releases");
        Path images = work.resolve("images");
        Scenario.FactoryRelease f = s.factory();
        Releases.Built factory = Releases.build(pki, controller.artifacts(), images, f.version(), 1, compatibleAll(), f.imageSize(), f.chunkSize(),
                FaultProfile.NOMINAL);
        built.put(f.version(), factory);
        register(factory, null, "factory release");
        for (Scenario.ReleaseSpec r : s.releases()) {
            Releases.Built b = Releases.build(pki, controller.artifacts(), images, r.version(), r.securityVersion(), r.compatible(), r.imageSize(),
                    r.chunkSize(), r.profile());
            built.put(r.version(), b);
            register(b, r.previousStable(), r.notes());
        }

        ArrayNode inventory = Rest.object().arrayNode();
        for (Scenario.DeviceSpec d : s.devices()) {
            ObjectNode row = inventory.addObject().put("id", d.id()).put("variant", d.variant()).put("region", d.region());
            if (!d.corridor().isEmpty()) row.put("corridor", d.corridor());
        }
        controller.releaseManager().post("/api/v1/devices/import?reason=lab+fleet+inventory", "application/json", inventory.toString());

        note("creating " + s.devices().size() + " simulated roadside units");
        fleet = Fleet.create(s, work.resolve("devices"), keyring, controller, factory, timeline, scheduler, clock);
        for (SimulatedDevice d : fleet.devices().values()) {
            if (!d.spec().offline()) d.powerOn();
            else timeline.add("power", d.id(), "stays off (offline at the start)");
        }
        awaitRegistration();

        for (ObjectNode c : s.cohorts()) {
            ObjectNode body = c.deepCopy();
            if (!body.has("reason")) body.put("reason", "lab scenario " + s.name());
            JsonNode created = controller.releaseManager().post("/api/v1/cohorts", body);
            JsonNode cohort = created.path("cohort");
            String release = cohort.path("release").asText();
            List<String> members = new ArrayList<>();
            created.path("members").forEach(m -> members.add(m.asText()));
            for (String m : members) cohortOf.computeIfAbsent(m, k -> new ArrayList<>()).add(release + "/" + cohort.path("name").asText());
            List<JsonNode> ex = new ArrayList<>();
            created.path("excluded").forEach(ex::add);
            excluded.computeIfAbsent(release, k -> new ArrayList<>()).addAll(ex);
            cohorts.add(new RunReport.Cohort(release, cohort.path("id").asLong(), cohort.path("name").asText(), cohort.path("kind").asText(), members,
                    created.path("excluded")));
            timeline.add("lab", release, "cohort " + cohort.path("name").asText() + " (" + cohort.path("kind").asText() + "): "
                    + String.join(", ", members) + (ex.isEmpty() ? "" : "; excluded " + describeExcluded(ex)));
        }
        for (ObjectNode r : s.rollouts()) {
            ObjectNode body = r.deepCopy();
            if (!body.has("reason")) body.put("reason", "lab scenario " + s.name());
            JsonNode created = controller.releaseManager().post("/api/v1/rollouts", body);
            String release = created.path("release").asText();
            rolloutIds.put(release, created.path("id").asLong());
            rollouts.put(release, created);
            List<String> phases = new ArrayList<>();
            created.path("phases").forEach(p -> phases.add(p.path("name").asText() + " " + p.path("observation").asText() + " " + p.path("approval").asText()));
            timeline.add("lab", release, "rollout " + created.path("id").asText() + " of " + release + " created: " + String.join(" -> ", phases));
        }
        steps = new Steps(controller, fleet, rolloutIds, cohorts);
        timeline.startClock();
        timeline.add("lab", "lab", "lab clock starts");
    }

    private static byte[] encoded(TestPki pki) throws IOException {
        try {
            return pki.root.cert().getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IOException("test PKI root certificate: " + e.getMessage(), e);
        }
    }

    /** The factory release must install on every variant of the fleet. */
    private List<String> compatibleAll() {
        Set<String> v = new LinkedHashSet<>();
        s.devices().forEach(d -> v.add(d.variant()));
        return List.copyOf(v);
    }

    private void register(Releases.Built b, String previousStable, String notes) throws IOException {
        ObjectNode body = Rest.object().put("bundle", b.bundle().getFileName().toString()).put("reason", "lab scenario " + s.name());
        if (previousStable != null) body.put("previousStable", previousStable);
        if (notes != null) body.put("notes", notes);
        controller.releaseManager().post("/api/v1/releases", body);
        timeline.add("lab", b.version(), "release " + b.version() + " signed and registered: " + Units.bytes(b.bundleSize()) + ", "
                + b.chunks() + " chunks of " + Units.bytes(b.chunkSize()) + ", profile " + b.profile().describe());
    }

    private static String describeExcluded(List<JsonNode> ex) {
        List<String> out = new ArrayList<>();
        for (JsonNode e : ex) out.add(e.path("device").asText() + " (" + e.path("code").asText() + (e.hasNonNull("variant") ? " " + e.path("variant").asText() : "") + ")");
        return String.join(", ", out);
    }

    private void awaitRegistration() throws IOException {
        Set<String> expected = new LinkedHashSet<>();
        s.devices().stream().filter(d -> !d.offline()).forEach(d -> expected.add(d.id()));
        Instant deadline = clock.instant().plus(REGISTRATION);
        Set<String> reported = new LinkedHashSet<>();
        // Bounded by the deadline; each round is one REST call and a short sleep.
        while (clock.instant().isBefore(deadline)) {
            reported.clear();
            // The device list is paged (limit/after/next); a lab fleet fits one page of 1000, the loop covers more.
            String after = "";
            do {
                JsonNode page = controller.admin().get("/api/v1/devices?limit=1000" + (after.isEmpty() ? "" : "&after=" + after));
                for (JsonNode d : page.path("devices")) {
                    if (d.hasNonNull("reportedState")) reported.add(d.path("id").asText());
                }
                after = page.path("next").asText("");
            } while (!after.isEmpty());
            if (reported.containsAll(expected)) {
                timeline.add("lab", "lab", expected.size() + " devices online and registered");
                return;
            }
            sleep(Duration.ofMillis(250));
        }
        expected.removeAll(reported);
        throw new IOException("devices " + expected + " did not report to the controller within " + Units.human(REGISTRATION)
                + " (see the lab log for their agents' errors)");
    }

    // ---------------------------------------------------------------- the run

    private List<String> play() {
        Instant deadline = clock.instant().plus(s.timeLimit());
        Instant heldSince = null;
        List<String> unmet = List.of("not checked yet");
        Expectations.Judge judge = new Expectations.Judge(s.expect());
        // Bounded by the scenario's time limit.
        while (clock.instant().isBefore(deadline)) {
            Map<String, SimulatedDevice.Status> devices = observe();
            fireSteps(devices);
            unmet = new ArrayList<>(judge.observe(observed(devices)));
            unmet.addAll(stepFailures);
            for (Step st : s.timeline()) {
                if (!fired.containsKey(st.id())) unmet.add("step " + st.id() + " (" + st.action().verb() + ") has not happened: waiting for " + describe(st.trigger()));
            }
            if (unmet.isEmpty()) unmet = auditUnmet();
            o.view().update(new LabView.Snapshot(s.name(), s.title(), timeline.elapsed(), s.timeLimit(), devices, cohortOf, Map.copyOf(rollouts),
                    bytes(devices), timeline.tail(12), unmet, timeline));
            if (unmet.isEmpty()) {
                if (heldSince == null) heldSince = clock.instant();
                if (!clock.instant().isBefore(heldSince.plus(s.expect().holdFor()))) {
                    timeline.add("check", "lab", "every expectation holds");
                    return List.of();
                }
            } else {
                heldSince = null;
            }
            if (!stepFailures.isEmpty() || !judge.failed().isEmpty()) break;
            sleep(STEP);
        }
        timeline.add("check", "lab", "expectations not met: " + String.join("; ", unmet));
        return unmet;
    }

    private List<String> auditUnmet() {
        List<String> out = new ArrayList<>();
        try {
            if (!controller.admin().get("/api/v1/audit/verify").path("ok").asBoolean()) out.add("the audit hash chain does not verify");
            if (!s.expect().audit().isEmpty()) {
                Set<String> actions = new LinkedHashSet<>();
                for (JsonNode e : audit()) actions.add(e.path("action").asText());
                for (String a : s.expect().audit()) if (!actions.contains(a)) out.add("no audit entry " + a);
            }
        } catch (IOException e) {
            out.add("audit not readable: " + e.getMessage());
        }
        return out;
    }

    private Expectations.Observed observed(Map<String, SimulatedDevice.Status> devices) {
        return new Expectations.Observed(devices, Map.copyOf(rollouts), excluded, bytes(devices), fired, timeline.zero(), timeline.elapsed());
    }

    /** Device statuses and rollout statuses now; changes go to the timeline. */
    private Map<String, SimulatedDevice.Status> observe() {
        Map<String, SimulatedDevice.Status> out = new LinkedHashMap<>();
        for (SimulatedDevice d : fleet.devices().values()) {
            SimulatedDevice.Status st = d.status();
            out.put(d.id(), st);
            SimulatedDevice.Status before = lastStatus.put(d.id(), st);
            String shown = (st.powered() ? String.valueOf(st.state()) : "off") + "|" + st.running();
            if (!shown.equals(lastShown.put(d.id(), shown))) {
                history.add(new RunReport.StateChange(d.id(), timeline.labMillis(clock.instant()), st.powered() ? st.state() : "off", st.running()));
            }
            if (st.target() != null && st.state() != null && !List.of("idle", "failed").contains(st.state())) {
                downloads.computeIfAbsent(d.id(), k -> new LinkedHashSet<>()).add(st.target());
            }
            boolean stateChanged = before == null || !Objects.equals(before.state(), st.state());
            if (st.state() != null && stateChanged) {
                timeline.add("device", d.id(), (before == null || before.state() == null ? "" : before.state() + " -> ") + st.state()
                        + (st.target() != null ? " (" + st.target() + ")" : "") + ", running " + st.running()
                        + (st.errorCode() != null && !Objects.equals(before == null ? null : before.errorCode(), st.errorCode())
                        ? "; error " + st.errorCode() + ": " + st.errorMessage() : ""));
            } else if (st.state() != null && !Objects.equals(before.running(), st.running())) {
                timeline.add("device", d.id(), "still " + st.state() + ", now running " + st.running());
            }
        }
        for (Map.Entry<String, Long> r : rolloutIds.entrySet()) {
            try {
                JsonNode status = controller.rolloutStatus(r.getValue());
                rollouts.put(r.getKey(), status);
                noteRolloutChanges(r.getKey(), status);
            } catch (IOException e) {
                log.warn("rollout {} status unavailable: {}", r.getValue(), e.toString());
            }
        }
        if (!clock.instant().isBefore(lastSample.plus(SAMPLE))) {
            lastSample = clock.instant();
            sampleKpis();
        }
        return out;
    }

    private void noteRolloutChanges(String release, JsonNode st) {
        String line = st.path("state").asText();
        if (!line.equals(lastRolloutLine.put(release, line))) timeline.add("rollout", release, "rollout " + release + ": " + line);
        for (JsonNode p : st.path("phases")) {
            String key = release + "#" + p.path("index").asText();
            String ps = p.path("state").asText();
            if (!ps.equals(lastRolloutLine.put(key, ps))) {
                timeline.add("phase", release, "phase " + p.path("name").asText() + ": " + ps);
                phaseHistory.add(new RunReport.StateChange(release + "/" + p.path("name").asText(), timeline.labMillis(clock.instant()), ps, null));
            }
        }
        for (JsonNode pe : st.path("pauses")) {
            if (seenPauses.add(pe.path("id").asLong())) timeline.add("pause", release, PauseText.headline(pe));
            if (pe.hasNonNull("resumedAt") && seenPauses.add(-pe.path("id").asLong())) {
                timeline.add("pause", release, "pause " + pe.path("id").asText() + " resumed by " + pe.path("resumedBy").asText() + ": "
                        + pe.path("resumeReason").asText());
            }
        }
        for (JsonNode b : st.path("blocked")) {
            if (seenBlocked.add(release + "/" + b.path("device").asText())) {
                timeline.add("rollout", release, b.path("device").asText() + " blocked: variant " + b.path("variant").asText()
                        + " is not compatible with " + release + " (cohort " + b.path("cohort").asText() + ")");
            }
        }
    }

    private void sampleKpis() {
        double t = timeline.elapsed().toMillis() / 1000.0;
        rollouts.forEach((release, st) -> {
            // Only while the rollout looks after its cohorts: afterwards the same devices may run another release.
            if (!List.of("running", "paused", "rolling_back").contains(st.path("state").asText())) return;
            for (JsonNode p : st.path("phases")) {
                if (p.path("state").asText().equals("pending")) continue;
                for (JsonNode k : p.path("kpis")) {
                    String rule = k.path("rule").asText();
                    if (rule.equals("open-sev1") || !k.hasNonNull("observed")) continue;
                    // One series per rule and slice ("availability-below [variant=rsu-b2]"); a control rule's value is how much worse.
                    StringBuilder slice = new StringBuilder();
                    k.path("slice").fields().forEachRemaining(e -> slice.append(slice.length() == 0 ? "" : ",").append(e.getKey()).append('=')
                            .append(e.getValue().asText()));
                    String label = rule + (slice.length() == 0 ? "" : " [" + slice + "]") + (k.hasNonNull("control") ? " vs control" : "");
                    String key = release + "/" + p.path("cohort").asText() + "/" + label;
                    RunReport.Series sr = series.computeIfAbsent(key, x -> new RunReport.Series(release, p.path("cohort").asText(), label,
                            k.path("unit").asText(), k.path("comparison").asText(), k.path("threshold").asDouble(), new ArrayList<>()));
                    sr.points().add(new double[] {t, k.path("observed").asDouble()});
                    JsonNode c = k.path("control");
                    if (c.isObject() && !c.path("controlValue").isNull() && Double.isFinite(c.path("controlValue").asDouble(Double.NaN))) {
                        // Both series of a control comparison, in the KPI's own unit, so the report shows cohort against control.
                        for (String side : List.of("judged", "control")) {
                            String skey = key + "/" + side;
                            RunReport.Series ss = series.computeIfAbsent(skey, x -> new RunReport.Series(release, p.path("cohort").asText(),
                                    rule + (slice.length() == 0 ? "" : " [" + slice + "]") + (side.equals("judged") ? ": cohort" : ": control group (" + c.path("by").asText() + ")"),
                                    "ratio", "<", Double.NaN, new ArrayList<>()));
                            ss.points().add(new double[] {t, c.path(side + "Value").asDouble()});
                        }
                    }
                }
            }
        });
    }

    /** Per device: {fetched, bound, cuts}. */
    private Map<String, long[]> bytes(Map<String, SimulatedDevice.Status> devices) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (SimulatedDevice d : fleet.devices().values()) {
            var c = d.network().bundleCounters();
            long bound = 0;
            long chunks = 0;
            long maxChunk = 0;
            Set<String> releases = downloads.getOrDefault(d.id(), Set.of());
            for (String r : releases) {
                Releases.Built b = built.get(r);
                if (b == null) continue;
                bound += b.bundleSize() + HEADER_FETCH;
                chunks += b.chunks();
                maxChunk = Math.max(maxChunk, b.chunkSize());
            }
            SimulatedDevice.Status st = devices.get(d.id());
            long cuts = c.cuts();
            long powerCuts = st == null ? 0 : st.powerCuts();
            // A power cut mid-download may refetch the header and lose the chunk in flight.
            bound += cuts * maxChunk + powerCuts * (HEADER_FETCH + maxChunk) + (chunks + 2L * releases.size() + 2 * cuts + 2 * powerCuts) * HTTP_FRAMING;
            out.put(d.id(), new long[] {c.bytesDownstream(), bound, cuts});
        }
        return out;
    }

    // ---------------------------------------------------------------- the timeline's steps

    private void fireSteps(Map<String, SimulatedDevice.Status> devices) {
        Instant now = clock.instant();
        for (Step st : s.timeline()) {
            if (fired.containsKey(st.id())) continue;
            if (!triggeredAt.containsKey(st.id()) && holds(st.trigger(), devices)) triggeredAt.put(st.id(), now);
            Instant t = triggeredAt.get(st.id());
            if (t != null && !now.isBefore(t.plus(st.delay()))) {
                fired.put(st.id(), now);
                try {
                    String what = steps.apply(st);
                    timeline.add("step", st.action().onDevices() ? st.devices().toString() : Steps.releaseOf(st.action()), st.id() + ": " + what);
                } catch (IOException | RuntimeException e) {
                    stepFailures.add("step " + st.id() + " (" + st.action().verb() + ") failed: " + e.getMessage());
                    timeline.add("step", "lab", "step " + st.id() + " failed: " + e.getMessage());
                    log.error("step {} failed", st.id(), e);
                }
            }
        }
    }

    private boolean holds(Step.Trigger t, Map<String, SimulatedDevice.Status> devices) {
        if (t instanceof Step.At a) return timeline.elapsed().compareTo(a.at()) >= 0;
        if (t instanceof Step.DeviceIn d) {
            SimulatedDevice.Status st = devices.get(d.device());
            return st != null && st.agentUp() && d.state().equals(st.state());
        }
        if (t instanceof Step.RolloutIn r) {
            JsonNode st = rollouts.get(r.release());
            return st != null && st.path("state").asText().equals(r.state());
        }
        if (t instanceof Step.HoldIn h) {
            JsonNode st = rollouts.get(h.release());
            return st != null && st.path("hold").path("kind").asText().equals(h.kind());
        }
        Step.PhaseIn p = (Step.PhaseIn) t;
        JsonNode phase = Expectations.phase(rollouts.get(p.release()), p.phase());
        return phase != null && phase.path("state").asText().equals(p.state());
    }

    private static String describe(Step.Trigger t) {
        if (t instanceof Step.At a) return "lab time " + Units.human(a.at());
        if (t instanceof Step.DeviceIn d) return d.device() + " to be " + d.state();
        if (t instanceof Step.RolloutIn r) return "rollout " + r.release() + " to be " + r.state();
        if (t instanceof Step.HoldIn h) return "rollout " + h.release() + " to wait for " + h.kind();
        Step.PhaseIn p = (Step.PhaseIn) t;
        return "phase " + p.phase() + " of " + p.release() + " to be " + p.state();
    }

    // ---------------------------------------------------------------- the end

    private List<JsonNode> audit() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        long after = 0;
        // Pages of 1000; a lab run writes a few dozen entries, the bound is generous.
        for (int page = 0; page < 100; page++) {
            JsonNode body = controller.admin().get("/api/v1/audit?limit=1000&after=" + after);
            body.path("entries").forEach(out::add);
            if (!body.hasNonNull("next")) break;
            after = body.path("next").asLong();
        }
        return out;
    }

    private RunReport report(Instant started, List<String> failures) throws IOException {
        Map<String, SimulatedDevice.Status> devices = observe();
        Map<String, long[]> bytes = bytes(devices);
        List<RunReport.Device> ds = new ArrayList<>();
        for (SimulatedDevice d : fleet.devices().values()) {
            SimulatedDevice.Status st = devices.get(d.id());
            long[] b = bytes.get(d.id());
            ds.add(new RunReport.Device(d.id(), d.spec().variant(), d.spec().region(), d.spec().corridor(), cohortOf.getOrDefault(d.id(), List.of()),
                    st.powered(), st.state(), st.running(), st.target(), st.errorCode(), st.errorMessage(), d.slots(), d.app().last(), b[0], b[1], b[2],
                    List.copyOf(downloads.getOrDefault(d.id(), Set.of())), st.boots(), st.hangs(), st.powerCuts()));
        }
        List<RunReport.Rollout> rs = new ArrayList<>();
        List<JsonNode> pauses = new ArrayList<>();
        rollouts.forEach((release, st) -> {
            rs.add(new RunReport.Rollout(release, st.path("id").asLong(), st.path("state").asText(), st));
            st.path("pauses").forEach(pauses::add);
        });
        List<RunReport.Bundle> bundles = new ArrayList<>();
        built.values().forEach(b -> bundles.add(new RunReport.Bundle(b.version(), b.bundle().getFileName().toString(), b.bundleSize(), b.headerSize(),
                b.payloadSize(), b.chunkSize(), b.chunks(), b.profile().describe())));
        boolean verified = controller.admin().get("/api/v1/audit/verify").path("ok").asBoolean();
        double seconds = Duration.between(started, clock.instant()).toMillis() / 1000.0;
        return new RunReport(s.name(), s.title(), s.description(), started, timeline.zero(), seconds, failures.isEmpty(), failures,
                controller.brokerDescription(), bundles, ds, cohorts, rs, pauses, audit(), verified, timeline.events(), List.copyOf(history),
                List.copyOf(phaseHistory), List.copyOf(series.values()));
    }

    private void tearDown() {
        if (fleet != null) fleet.close();
        if (controller != null) controller.close();
        if (scheduler != null) scheduler.shutdownNow();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("lab run interrupted", e);
        }
    }
}
