package rsuota.lab.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import rsuota.lab.device.SimulatedDevice;
import rsuota.lab.scenario.Scenario;
import rsuota.lab.scenario.Units;

/**
 * Checks a scenario's expectations against what the lab observes, and says in words what is not
 * met yet. Pure: the runner calls it on every observation; a run passes once nothing is unmet
 * for the scenario's {@code holdFor}.
 */
final class Expectations {
    private Expectations() {}

    /** What one check looks at. */
    record Observed(Map<String, SimulatedDevice.Status> devices, Map<String, JsonNode> rollouts, Map<String, List<JsonNode>> excluded,
                    Map<String, long[]> bytes, Map<String, Instant> stepsFired) {}

    static List<String> unmet(Scenario.Expect x, Observed o) {
        List<String> out = new ArrayList<>();
        x.rollouts().forEach((release, state) -> {
            JsonNode r = o.rollouts().get(release);
            String actual = r == null ? "not created" : r.path("state").asText();
            if (!actual.equals(state)) out.add("rollout " + release + " is " + actual + ", expected " + state);
        });
        for (Scenario.PhaseExpect p : x.phases()) {
            JsonNode phase = phase(o.rollouts().get(p.release()), p.phase());
            String actual = phase == null ? "unknown" : phase.path("state").asText();
            if (!actual.equals(p.state())) out.add("phase " + p.phase() + " of " + p.release() + " is " + actual + ", expected " + p.state());
        }
        for (Scenario.DeviceExpect d : x.devices()) {
            for (SimulatedDevice.Status s : o.devices().values()) {
                if (!d.devices().includes(s.id())) continue;
                if (d.state() != null && !d.state().equals(s.state())) out.add(s.id() + " is " + s.state() + ", expected " + d.state());
                if (d.running() != null && !d.running().equals(s.running())) out.add(s.id() + " runs " + s.running() + ", expected " + d.running());
                if (d.error() != null && !d.error().equals(s.errorCode())) out.add(s.id() + " last error " + s.errorCode() + ", expected " + d.error());
            }
        }
        pauses(x, o, out);
        for (Scenario.BlockedExpect b : x.blocked()) {
            boolean inCohort = o.excluded().getOrDefault(b.release(), List.of()).stream()
                    .anyMatch(e -> e.path("device").asText().equals(b.device()) && e.path("code").asText().equals("INCOMPATIBLE_VARIANT"));
            JsonNode r = o.rollouts().get(b.release());
            boolean inStatus = false;
            if (r != null) {
                for (JsonNode bl : r.path("blocked")) {
                    if (bl.path("device").asText().equals(b.device()) && (b.variant() == null || bl.path("variant").asText().equals(b.variant()))) inStatus = true;
                }
            }
            if (!inCohort) out.add(b.device() + " was not excluded from a cohort of " + b.release() + " as INCOMPATIBLE_VARIANT");
            if (!inStatus) out.add(b.device() + " is not listed as blocked in the rollout of " + b.release());
        }
        if (x.bytesWithinBound()) {
            o.bytes().forEach((id, b) -> {
                if (b[0] > b[1]) out.add(id + " fetched " + b[0] + " bytes, more than its bound " + b[1]);
            });
        }
        if (x.minCuts() > 0) {
            o.bytes().forEach((id, b) -> {
                if (b[2] < x.minCuts()) out.add(id + "'s bundle path was cut " + b[2] + " times, fewer than " + x.minCuts());
            });
        }
        return out;
    }

    private static void pauses(Scenario.Expect x, Observed o, List<String> out) {
        List<JsonNode> all = new ArrayList<>();
        List<String> releaseOf = new ArrayList<>();
        o.rollouts().forEach((release, r) -> {
            for (JsonNode p : r.path("pauses")) {
                all.add(p);
                releaseOf.add(release);
            }
        });
        boolean[] matched = new boolean[all.size()];
        for (Scenario.PauseExpect e : x.pauses()) {
            boolean found = false;
            for (int i = 0; i < all.size() && !found; i++) {
                if (matched[i] || !releaseOf.get(i).equals(e.release())) continue;
                JsonNode p = all.get(i);
                if (!p.path("cause").asText().equalsIgnoreCase(e.cause())) continue;
                if (e.rule() != null && !e.rule().equals(p.path("rule").asText(null))) continue;
                if (e.cohort() != null && !e.cohort().equals(p.path("findings").path(0).path("cohort").asText(null))) continue;
                if (e.afterStep() != null) {
                    Instant step = o.stepsFired().get(e.afterStep());
                    Instant at = Instant.parse(p.path("at").asText());
                    if (step == null || at.isBefore(step.minusMillis(1))) continue;
                    if (e.within() != null && Duration.between(step, at).compareTo(e.within()) > 0) {
                        out.add("pause " + p.path("id").asText() + " (" + p.path("rule").asText(e.cause()) + ") came "
                                + Units.human(Duration.between(step, at)) + " after step " + e.afterStep() + ", expected within " + Units.human(e.within()));
                    }
                }
                matched[i] = true;
                found = true;
            }
            if (!found) {
                out.add("no " + e.cause().toLowerCase(Locale.ROOT) + " pause of " + e.release() + (e.rule() == null ? "" : " by rule " + e.rule())
                        + (e.cohort() == null ? "" : " on cohort " + e.cohort()) + (e.afterStep() == null ? "" : " after step " + e.afterStep()));
            }
        }
        for (int i = 0; i < all.size(); i++) {
            if (!matched[i]) {
                JsonNode p = all.get(i);
                out.add("unexpected pause of " + releaseOf.get(i) + ": " + p.path("reason").asText());
            }
        }
    }

    static JsonNode phase(JsonNode rollout, String name) {
        if (rollout == null) return null;
        for (JsonNode p : rollout.path("phases")) {
            if (p.path("name").asText().equals(name) || p.path("cohort").asText().equals(name)) return p;
        }
        return null;
    }
}
