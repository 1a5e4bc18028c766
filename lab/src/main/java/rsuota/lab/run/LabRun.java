package rsuota.lab.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import rsuota.lab.device.SimulatedDevice;
import rsuota.lab.scenario.Scenario;

/**
 * Runs one scenario end to end: a real controller (own data directory, embedded broker or
 * Mosquitto), real signed releases, a fleet of real agents over simulated hardware with their own
 * network paths, the timeline of faults and operator actions, and the expectations, checked until
 * they all hold for the scenario's {@code holdFor} or its time limit passes.
 *
 * <p>{@link LabBench} sets the lab up and closes it; then this class plays the run: each round
 * {@link FleetWatch} looks at the fleet and the controller, {@link StepSchedule} fires the steps whose
 * time has come and {@link Expectations} judges, until the expectations hold or the time is up; at
 * the end it gathers the {@link RunReport}.
 */
public final class LabRun {
    /** A file in every work directory the lab made: the only directories it ever deletes. */
    public static final String WORK_MARKER = ".rsu-lab-work";

    /** How often the runner looks at the fleet and the controller. */
    static final Duration STEP = Duration.ofMillis(200);

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
    private final LabBench bench;
    private FleetWatch watch;
    private StepSchedule schedule;

    private LabRun(Scenario s, Options o) {
        this.s = s;
        this.o = o;
        this.bench = new LabBench(s, o, clock, timeline);
    }

    /** Runs the scenario and returns its report; throws only when the lab itself cannot be set up. */
    public static RunReport run(Scenario s, Options o) throws IOException {
        LabRun r = new LabRun(s, o);
        Instant started = r.clock.instant();
        try {
            r.bench.setUp();
            r.watch = new FleetWatch(r.bench, r.clock, r.timeline);
            r.schedule = new StepSchedule(s, new Steps(r.bench.controller(), r.bench.fleet(), r.bench.rolloutIds(), r.bench.cohorts(), r.bench.built()), r.clock,
                    r.timeline, r.bench.rollouts());
            List<String> failures = r.play();
            return r.report(started, failures);
        } finally {
            r.bench.close();
        }
    }

    // ---------------------------------------------------------------- the run

    private List<String> play() {
        Instant deadline = clock.instant().plus(s.timeLimit());
        Instant heldSince = null;
        List<String> unmet = List.of("not checked yet");
        Expectations.Judge judge = new Expectations.Judge(s.expect());
        // Bounded by the scenario's time limit.
        while (clock.instant().isBefore(deadline)) {
            Map<String, SimulatedDevice.Status> devices = watch.observe();
            schedule.fire(devices);
            unmet = new ArrayList<>(judge.observe(observed(devices)));
            unmet.addAll(schedule.failures());
            unmet.addAll(schedule.waiting());
            if (unmet.isEmpty()) unmet = auditUnmet();
            o.view().update(new LabView.Snapshot(s.name(), s.title(), timeline.elapsed(), s.timeLimit(), devices, bench.cohortOf(), Map.copyOf(bench.rollouts()),
                    watch.bytes(devices), timeline.tail(12), unmet, timeline));
            if (unmet.isEmpty()) {
                if (heldSince == null) heldSince = clock.instant();
                if (!clock.instant().isBefore(heldSince.plus(s.expect().holdFor()))) {
                    timeline.add("check", "lab", "every expectation holds");
                    return List.of();
                }
            } else {
                heldSince = null;
            }
            if (!schedule.failures().isEmpty() || !judge.failed().isEmpty()) break;
            sleep(STEP);
        }
        timeline.add("check", "lab", "expectations not met: " + String.join("; ", unmet));
        return unmet;
    }

    private List<String> auditUnmet() {
        List<String> out = new ArrayList<>();
        try {
            if (!bench.controller().admin().get("/api/v1/audit/verify").path("ok").asBoolean()) out.add("the audit hash chain does not verify");
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
        return new Expectations.Observed(devices, Map.copyOf(bench.rollouts()), bench.excluded(), watch.bytes(devices), schedule.fired(), timeline.zero(),
                timeline.elapsed());
    }


    // ---------------------------------------------------------------- the end

    private List<JsonNode> audit() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        long after = 0;
        // Pages of 1000; a lab run writes a few dozen entries, the bound is generous.
        for (int page = 0; page < 100; page++) {
            JsonNode body = bench.controller().admin().get("/api/v1/audit?limit=1000&after=" + after);
            body.path("entries").forEach(out::add);
            if (!body.hasNonNull("next")) break;
            after = body.path("next").asLong();
        }
        return out;
    }

    private RunReport report(Instant started, List<String> failures) throws IOException {
        Map<String, SimulatedDevice.Status> devices = watch.observe();
        Map<String, long[]> bytes = watch.bytes(devices);
        List<RunReport.Device> ds = new ArrayList<>();
        for (SimulatedDevice d : bench.fleet().devices().values()) {
            SimulatedDevice.Status st = devices.get(d.id());
            long[] b = bytes.get(d.id());
            ds.add(new RunReport.Device(d.id(), d.spec().variant(), d.spec().region(), d.spec().corridor(), bench.cohortOf().getOrDefault(d.id(), List.of()),
                    st.powered(), st.state(), st.running(), st.target(), st.errorCode(), st.errorMessage(), d.slots(), d.app().last(), b[0], b[1], b[2],
                    List.copyOf(watch.downloads().getOrDefault(d.id(), Set.of())), st.boots(), st.hangs(), st.powerCuts()));
        }
        List<RunReport.Rollout> rs = new ArrayList<>();
        List<JsonNode> pauses = new ArrayList<>();
        bench.rollouts().forEach((release, st) -> {
            rs.add(new RunReport.Rollout(release, st.path("id").asLong(), st.path("state").asText(), st));
            st.path("pauses").forEach(pauses::add);
        });
        List<RunReport.Bundle> bundles = new ArrayList<>();
        bench.built().values().forEach(b -> bundles.add(new RunReport.Bundle(b.version(), b.bundle().getFileName().toString(), b.bundleSize(), b.headerSize(),
                b.payloadSize(), b.chunkSize(), b.chunks(), b.profile().describe())));
        boolean verified = bench.controller().admin().get("/api/v1/audit/verify").path("ok").asBoolean();
        double seconds = Duration.between(started, clock.instant()).toMillis() / 1000.0;
        return new RunReport(s.name(), s.title(), s.description(), started, timeline.zero(), seconds, failures.isEmpty(), failures,
                bench.controller().brokerDescription(), bundles, ds, bench.cohorts(), rs, pauses, audit(), verified, timeline.events(),
                List.copyOf(watch.history()), List.copyOf(watch.phaseHistory()), List.copyOf(watch.series().values()));
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("lab run interrupted", e);
        }
    }
}
