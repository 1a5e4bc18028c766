package rsuota.lab.run;

import rsuota.wire.DeploymentState;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.lab.control.Releases;
import rsuota.lab.device.SimulatedDevice;

/**
 * Looks at the fleet and the controller once a round: every device's status and every rollout's,
 * with their changes written to the timeline and the state histories, cohort KPIs sampled for the
 * charts, and each device's bytes fetched against the bound its downloads allow.
 */
final class FleetWatch {
    private static final Logger log = LoggerFactory.getLogger(FleetWatch.class);

    /** Cohort KPI samples for the charts. */
    static final Duration SAMPLE = Duration.ofSeconds(1);
    /**
     * The agent's first header request (agent-core SlotFiller.FIRST_HEADER_FETCH): header plus the
     * start of the payload, fetched once per download and not reused by the chunk fetches.
     */
    static final long HEADER_FETCH = 32 * 1024;
    /** HTTP response headers per range request: Jetty's are ~250 bytes; generous so the bound checks payload bytes. */
    static final long HTTP_FRAMING = 1024;

    private final LabBench bench;
    private final Clock clock;
    private final Timeline timeline;
    private final Map<String, JsonNode> rollouts;
    private final Map<String, Set<String>> downloads = new HashMap<>();
    private final Map<String, SimulatedDevice.Status> lastStatus = new HashMap<>();
    private final Map<String, String> lastRolloutLine = new HashMap<>();
    private final Set<Long> seenPauses = new LinkedHashSet<>();
    private final Set<String> seenBlocked = new LinkedHashSet<>();
    private final Map<String, RunReport.Series> series = new LinkedHashMap<>();
    private final List<RunReport.StateChange> history = new ArrayList<>();
    private final List<RunReport.StateChange> phaseHistory = new ArrayList<>();
    private final Map<String, String> lastShown = new HashMap<>();
    private Instant lastSample = Instant.EPOCH;

    FleetWatch(LabBench bench, Clock clock, Timeline timeline) {
        this.bench = bench;
        this.clock = clock;
        this.timeline = timeline;
        this.rollouts = bench.rollouts();
    }

    /** Device -> the releases it has fetched (or is fetching). */
    Map<String, Set<String>> downloads() {
        return downloads;
    }

    List<RunReport.StateChange> history() {
        return history;
    }

    List<RunReport.StateChange> phaseHistory() {
        return phaseHistory;
    }

    Map<String, RunReport.Series> series() {
        return series;
    }

    /** Device statuses and rollout statuses now; changes go to the timeline. */
    Map<String, SimulatedDevice.Status> observe() {
        Map<String, SimulatedDevice.Status> out = new LinkedHashMap<>();
        for (SimulatedDevice d : bench.fleet().devices().values()) {
            SimulatedDevice.Status st = d.status();
            out.put(d.id(), st);
            SimulatedDevice.Status before = lastStatus.put(d.id(), st);
            String shown = (st.powered() ? String.valueOf(st.state()) : "off") + "|" + st.running();
            if (!shown.equals(lastShown.put(d.id(), shown))) {
                history.add(new RunReport.StateChange(d.id(), timeline.labMillis(clock.instant()), st.powered() ? st.state() : "off", st.running()));
            }
            if (st.target() != null && st.state() != null && !DeploymentState.IDLE.is(st.state()) && !DeploymentState.FAILED.is(st.state())) {
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
        for (Map.Entry<String, Long> r : bench.rolloutIds().entrySet()) {
            try {
                JsonNode status = bench.controller().rolloutStatus(r.getValue());
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

    /** Per device: {fetched, bound, cuts, full size of the bundles it downloaded}. */
    Map<String, long[]> bytes(Map<String, SimulatedDevice.Status> devices) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (SimulatedDevice d : bench.fleet().devices().values()) {
            var c = d.network().bundleCounters();
            long bound = 0;
            long chunks = 0;
            long maxChunk = 0;
            long full = 0;
            Set<String> releases = downloads.getOrDefault(d.id(), Set.of());
            for (String r : releases) {
                Releases.Built b = bench.built().get(r);
                if (b == null) continue;
                bound += b.bundleSize() + HEADER_FETCH;
                full += b.bundleSize();
                chunks += b.chunks();
                maxChunk = Math.max(maxChunk, b.chunkSize());
            }
            SimulatedDevice.Status st = devices.get(d.id());
            long cuts = c.cuts();
            long powerCuts = st == null ? 0 : st.powerCuts();
            // A power cut mid-download may refetch the header and lose the chunk in flight.
            bound += cuts * maxChunk + powerCuts * (HEADER_FETCH + maxChunk) + (chunks + 2L * releases.size() + 2 * cuts + 2 * powerCuts) * HTTP_FRAMING;
            out.put(d.id(), new long[] {c.bytesDownstream(), bound, cuts, full});
        }
        return out;
    }
}
