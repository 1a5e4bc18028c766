package rsuota.lab.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import rsuota.lab.scenario.Scenario.Expect;

/**
 * Reads a scenario file's {@code expect}: the rollout, phase and device states to reach, the pauses,
 * blocked units and alerts to see, what must never happen, and their timings.
 */
final class ExpectReader {
    private ExpectReader() {}

    static Expect expect(JsonFields e, JsonFields root, ScenarioNames names, List<Step> timeline)
            throws ScenarioException {
        if (e == null) throw root.error("expect", "is required: a scenario without expectations proves nothing");
        Map<String, String> rollouts = new LinkedHashMap<>();
        Map<String, Scenario.Timing> rolloutTimes = new LinkedHashMap<>();
        JsonFields r = e.object("rollouts");
        if (r != null) {
            for (String k : r.keys()) {
                names.rolloutKey(r, k);
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
            phases.add(new Scenario.PhaseExpect(names.release(p), p.requiredText("phase"), p.requiredText("state"), timing(p)));
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
            if (release != null) names.rolloutRelease(d, "release", release);
            devs.add(new Scenario.DeviceExpect(names.targets(d, "devices"), d.text("state", null), d.strings("running"), d.text("error", null),
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
                for (String k : fl.keys()) {
                    if (!k.startsWith("/")) throw fl.error(k, "is not a JSON pointer into the pause event (e.g. \"/findings/0/offending/0\")");
                    fields.put(k, fl.requiredText(k));
                }
                fl.done();
            }
            pauses.add(new Scenario.PauseExpect(names.release(p), p.text("cause", "rule"), p.text("rule", null), p.text("cohort", null), after,
                    p.duration("within", null), p.strings("mentions"), fields, timing(p)));
            p.done();
        }
        List<Scenario.BlockedExpect> blocked = new ArrayList<>();
        List<JsonNode> bl = e.list("blocked");
        for (int i = 0; i < bl.size(); i++) {
            JsonFields b = e.element("blocked", i, bl.get(i));
            String device = b.requiredText("device");
            names.device(b, "device", device);
            blocked.add(new Scenario.BlockedExpect(names.release(b), device, b.text("variant", null)));
            b.done();
        }
        List<Scenario.AlertExpect> alerts = new ArrayList<>();
        List<JsonNode> al = e.list("alerts");
        for (int i = 0; i < al.size(); i++) {
            JsonFields a = e.element("alerts", i, al.get(i));
            String device = a.text("device", null);
            if (device != null) names.device(a, "device", device);
            alerts.add(new Scenario.AlertExpect(names.release(a), a.requiredText("kind"), device, timing(a)));
            a.done();
        }
        Scenario.Never never = never(e.object("never"), names);
        if (never.pauses() && !pauses.isEmpty()) throw e.error("never.pauses", "contradicts the pauses listed in expect.pauses");
        Expect x = new Expect(rollouts, rolloutTimes, phases, devs, pauses, blocked, alerts, never, e.bool("bytesWithinBound", false),
                e.integer("minCuts", 0, 0, 1_000_000), e.decimal("maxFetchedShare", null, 0.0, 1.0), e.strings("audit"), e.duration("holdFor", Duration.ofSeconds(1)));
        e.done();
        return x;
    }

    private static Scenario.Never never(JsonFields n, ScenarioNames names) throws ScenarioException {
        if (n == null) return Scenario.Never.NOTHING;
        boolean pauses = n.bool("pauses", false);
        List<String> alerts = n.strings("alerts");
        Map<String, List<String>> rollouts = new LinkedHashMap<>();
        JsonFields r = n.object("rollouts");
        if (r != null) {
            for (String k : r.keys()) {
                names.rolloutKey(r, k);
                rollouts.put(k, r.strings(k));
            }
            r.done();
        }
        List<Scenario.DeviceNever> devs = new ArrayList<>();
        List<JsonNode> dl = n.list("devices");
        for (int i = 0; i < dl.size(); i++) {
            JsonFields d = n.element("devices", i, dl.get(i));
            if (!d.has("devices")) throw d.error("devices", "is required (\"all\" or a list of ids)");
            Scenario.DeviceNever dn = new Scenario.DeviceNever(names.targets(d, "devices"), d.text("state", null), d.text("running", null));
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
}
