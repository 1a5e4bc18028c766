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
import rsuota.lab.scenario.Units;

/**
 * What a scenario runs on, set up in order and closed together: the work directory, PKI and
 * keyring, controller, releases (built and registered), inventory, devices (created, powered on
 * unless offline, registered with the controller), cohorts and rollouts; then the lab clock starts.
 * What the setup learnt (built bundles, cohort members, exclusions, rollout ids) stays here for the run.
 */
final class LabBench implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LabBench.class);

    /** Every online device must have reported its first state within this; they connect in a second or two. */
    static final Duration REGISTRATION = Duration.ofSeconds(60);

    private final Scenario s;
    private final LabRun.Options o;
    private final Clock clock;
    private final Timeline timeline;
    private final Map<String, Long> rolloutIds = new LinkedHashMap<>();
    private final Map<String, JsonNode> rollouts = new LinkedHashMap<>();
    private final Map<String, List<JsonNode>> excluded = new HashMap<>();
    private final Map<String, List<String>> cohortOf = new LinkedHashMap<>();
    private final List<RunReport.Cohort> cohorts = new ArrayList<>();
    private final Map<String, Releases.Built> built = new LinkedHashMap<>();
    private LabController controller;
    private Fleet fleet;
    private ScheduledExecutorService scheduler;

    LabBench(Scenario s, LabRun.Options o, Clock clock, Timeline timeline) {
        this.s = s;
        this.o = o;
        this.clock = clock;
        this.timeline = timeline;
    }

    LabController controller() {
        return controller;
    }

    Fleet fleet() {
        return fleet;
    }

    /** Release -> its rollout's id at the controller. */
    Map<String, Long> rolloutIds() {
        return rolloutIds;
    }

    /** Release -> its rollout as created; the run keeps it up to date with the rollout's status. */
    Map<String, JsonNode> rollouts() {
        return rollouts;
    }

    /** Release -> the devices its cohorts excluded, with why. */
    Map<String, List<JsonNode>> excluded() {
        return excluded;
    }

    /** Device -> the cohorts it belongs to ("2.0/pilot"). */
    Map<String, List<String>> cohortOf() {
        return cohortOf;
    }

    List<RunReport.Cohort> cohorts() {
        return cohorts;
    }

    /** Version -> its signed bundle, the factory release first. */
    Map<String, Releases.Built> built() {
        return built;
    }

    private void note(String line) {
        log.info(line);
        o.view().note(line);
    }

    void setUp() throws IOException {
        Path work = o.work();
        Files.createDirectories(work);
        try (var list = Files.list(work)) {
            if (list.findAny().isPresent()) throw new IOException("lab work directory " + work + " is not empty");
        }
        // Marks the directory as the lab's own, so a later run may clear it (and nothing else).
        Files.writeString(work.resolve(LabRun.WORK_MARKER), "made by scripts/lab; removed with its directory by the next run\n");
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
                FaultProfile.NOMINAL, new Releases.Shape(f.format(), null, 0));
        built.put(f.version(), factory);
        register(factory, null, "factory release");
        for (Scenario.ReleaseSpec r : s.releases()) {
            Releases.Built b = Releases.build(pki, controller.artifacts(), images, r.version(), r.securityVersion(), r.compatible(), r.imageSize(),
                    r.chunkSize(), r.profile(), new Releases.Shape(r.format(), r.base() == null ? null : built.get(r.base()).image(), r.change()));
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
            LabRun.sleep(Duration.ofMillis(250));
        }
        expected.removeAll(reported);
        throw new IOException("devices " + expected + " did not report to the controller within " + Units.human(REGISTRATION)
                + " (see the lab log for their agents' errors)");
    }

    @Override
    public void close() {
        if (fleet != null) fleet.close();
        if (controller != null) controller.close();
        if (scheduler != null) scheduler.shutdownNow();
    }
}
