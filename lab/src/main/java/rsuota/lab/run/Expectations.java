package rsuota.lab.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import rsuota.lab.device.SimulatedDevice;
import rsuota.lab.scenario.Scenario;
import rsuota.lab.scenario.Units;

/**
 * Checks a scenario's expectations against what the lab observes, and says in words what is not
 * met yet. Pure: the runner calls it on every observation; a run passes once nothing is unmet
 * for the scenario's {@code holdFor}. What depends on time across observations (an item's
 * {@code notBefore}/{@code by}, the {@code never} list) is judged by {@link Judge}.
 */
final class Expectations {
    private Expectations() {}

    /** What one check looks at; {@code elapsed} is lab time now, {@code labZero} the lab clock's start. */
    record Observed(Map<String, SimulatedDevice.Status> devices, Map<String, JsonNode> rollouts, Map<String, List<JsonNode>> excluded,
                    Map<String, long[]> bytes, Map<String, Instant> stepsFired, Instant labZero, Duration elapsed) {}

    /**
     * One expectation item now.
     *
     * @param key     names the item in messages ("rollout 2.0", "devices[1]", "pauses[0]")
     * @param unmet   why it does not hold (empty: it holds)
     * @param eventAt for items about an event (a pause): its lab time, which the timing judges instead of the observation's
     */
    record Check(String key, Scenario.Timing timing, List<String> unmet, Duration eventAt) {
        boolean holds() {
            return unmet.isEmpty();
        }
    }

    static List<String> unmet(Scenario.Expect x, Observed o) {
        List<String> out = new ArrayList<>();
        for (Check c : checks(x, o)) out.addAll(c.unmet());
        return out;
    }

    static List<Check> checks(Scenario.Expect x, Observed o) {
        List<Check> checks = new ArrayList<>();
        x.rollouts().forEach((release, state) -> {
            JsonNode r = o.rollouts().get(release);
            String actual = r == null ? "not created" : r.path("state").asText();
            checks.add(new Check("rollout " + release, x.rolloutTimes().getOrDefault(release, Scenario.Timing.ANY),
                    actual.equals(state) ? List.of() : List.of("rollout " + release + " is " + actual + ", expected " + state), null));
        });
        for (int i = 0; i < x.phases().size(); i++) {
            Scenario.PhaseExpect p = x.phases().get(i);
            JsonNode phase = phase(o.rollouts().get(p.release()), p.phase());
            String actual = phase == null ? "unknown" : phase.path("state").asText();
            checks.add(new Check("phases[" + i + "]", p.timing(),
                    actual.equals(p.state()) ? List.of() : List.of("phase " + p.phase() + " of " + p.release() + " is " + actual + ", expected " + p.state()), null));
        }
        for (int i = 0; i < x.devices().size(); i++) {
            Scenario.DeviceExpect d = x.devices().get(i);
            List<String> out = new ArrayList<>();
            for (SimulatedDevice.Status s : o.devices().values()) {
                if (!d.devices().includes(s.id())) continue;
                if (d.state() != null && !d.state().equals(s.state())) out.add(s.id() + " is " + s.state() + ", expected " + d.state());
                if (!d.running().isEmpty() && (s.running() == null || !d.running().contains(s.running()))) {
                    out.add(s.id() + " runs " + s.running() + ", expected " + String.join(" or ", d.running()));
                }
                if (d.error() != null && !d.error().equals(s.errorCode())) out.add(s.id() + " last error " + s.errorCode() + ", expected " + d.error());
                if (d.controller() != null) {
                    JsonNode view = deviceView(o.rollouts().get(d.release()), s.id());
                    if (view == null) out.add(s.id() + " is not in the rollout of " + d.release());
                    else if (!controllerSays(view, d.controller())) {
                        out.add("the controller shows " + s.id() + " as " + describeView(view) + " in the rollout of " + d.release() + ", expected " + d.controller());
                    }
                }
            }
            checks.add(new Check("devices[" + i + "]", d.timing(), out, null));
        }
        pauses(x, o, checks);
        List<String> blocked = new ArrayList<>();
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
            if (!inCohort) blocked.add(b.device() + " was not excluded from a cohort of " + b.release() + " as INCOMPATIBLE_VARIANT");
            if (!inStatus) blocked.add(b.device() + " is not listed as blocked in the rollout of " + b.release());
        }
        checks.add(new Check("blocked", Scenario.Timing.ANY, blocked, null));
        for (int i = 0; i < x.alerts().size(); i++) {
            Scenario.AlertExpect a = x.alerts().get(i);
            JsonNode alert = alert(o.rollouts().get(a.release()), a.kind(), a.device());
            checks.add(new Check("alerts[" + i + "]", a.timing(), alert != null ? List.of()
                    : List.of("no " + a.kind() + " alert in the rollout of " + a.release() + (a.device() == null ? "" : " for " + a.device())),
                    alert == null ? null : labTime(alert.path("at"), o.labZero())));
        }
        List<String> bytes = new ArrayList<>();
        if (x.bytesWithinBound()) {
            o.bytes().forEach((id, b) -> {
                if (b[0] > b[1]) bytes.add(id + " fetched " + b[0] + " bytes, more than its bound " + b[1]);
            });
        }
        if (x.minCuts() > 0) {
            o.bytes().forEach((id, b) -> {
                if (b[2] < x.minCuts()) bytes.add(id + "'s bundle path was cut " + b[2] + " times, fewer than " + x.minCuts());
            });
        }
        if (x.maxFetchedShare() != null) {
            o.bytes().forEach((id, b) -> {
                if (b[3] == 0) bytes.add(id + " downloaded no bundle, so it saved nothing");
                else if (b[0] > x.maxFetchedShare() * b[3]) {
                    bytes.add(String.format(java.util.Locale.ROOT, "%s fetched %d bytes, %.1f%% of its bundles' %d: more than maxFetchedShare %.1f%%",
                            id, b[0], 100.0 * b[0] / b[3], b[3], 100 * x.maxFetchedShare()));
                }
            });
        }
        checks.add(new Check("bytes", Scenario.Timing.ANY, bytes, null));
        return checks;
    }

    /** What the {@code never} list forbids, seen in this observation. */
    static List<String> violations(Scenario.Never n, Observed o) {
        List<String> out = new ArrayList<>();
        o.rollouts().forEach((release, r) -> {
            if (n.pauses()) {
                for (JsonNode p : r.path("pauses")) out.add("a pause happened, and none may: " + release + " " + PauseText.headline(p));
            }
            for (JsonNode a : r.path("alerts")) {
                if (n.alerts().contains(a.path("kind").asText())) {
                    out.add("a " + a.path("kind").asText() + " alert was raised, and none may (rollout of " + release
                            + (a.hasNonNull("deviceId") ? ", device " + a.path("deviceId").asText() : "") + ")");
                }
            }
            List<String> states = n.rollouts().getOrDefault(release, List.of());
            String state = r.path("state").asText();
            if (states.contains(state)) out.add("rollout " + release + " was " + state + ", which it must never be");
        });
        for (Scenario.DeviceNever d : n.devices()) {
            for (SimulatedDevice.Status s : o.devices().values()) {
                if (!d.devices().includes(s.id())) continue;
                if (d.state() != null && d.state().equals(s.state())) out.add(s.id() + " was " + s.state() + ", which it must never be");
                if (d.running() != null && d.running().equals(s.running())) out.add(s.id() + " ran " + s.running() + ", which it must never do");
            }
        }
        return out;
    }

    /**
     * Remembers across observations what a single observation cannot judge: when each timed item
     * first held, and every violation. A violation (of {@code never}, of a {@code notBefore}, or a
     * {@code by} that passed) is final: the run has failed, whatever happens next.
     */
    static final class Judge {
        private final Scenario.Expect x;
        private final Map<String, Duration> firstHeld = new LinkedHashMap<>();
        private final Set<String> failed = new LinkedHashSet<>();

        Judge(Scenario.Expect x) {
            this.x = x;
        }

        /** Everything unmet now, final failures first. */
        List<String> observe(Observed o) {
            List<String> now = new ArrayList<>();
            for (Check c : checks(x, o)) {
                Scenario.Timing t = c.timing();
                Duration at = c.eventAt() != null ? c.eventAt() : o.elapsed();
                if (c.holds()) {
                    firstHeld.putIfAbsent(c.key(), at);
                    Duration first = firstHeld.get(c.key());
                    if (t.notBefore() != null && first.compareTo(t.notBefore()) < 0) {
                        failed.add(c.key() + " held at lab " + Units.human(first) + ", earlier than its notBefore " + Units.human(t.notBefore()));
                    }
                    if (t.by() != null && first.compareTo(t.by()) > 0) {
                        failed.add(c.key() + " first held at lab " + Units.human(first) + ", later than its 'by' " + Units.human(t.by()));
                    }
                } else {
                    now.addAll(c.unmet());
                    if (t.by() != null && !firstHeld.containsKey(c.key()) && o.elapsed().compareTo(t.by()) > 0) {
                        failed.add(c.key() + " did not hold by lab " + Units.human(t.by()) + ": " + String.join("; ", c.unmet()));
                    }
                }
            }
            failed.addAll(violations(x.never(), o));
            List<String> out = new ArrayList<>(failed);
            out.addAll(now);
            return out;
        }

        /** The final failures so far: once any, the run cannot pass. */
        List<String> failed() {
            return List.copyOf(failed);
        }
    }

    private static void pauses(Scenario.Expect x, Observed o, List<Check> checks) {
        List<JsonNode> all = new ArrayList<>();
        List<String> releaseOf = new ArrayList<>();
        o.rollouts().forEach((release, r) -> {
            for (JsonNode p : r.path("pauses")) {
                all.add(p);
                releaseOf.add(release);
            }
        });
        boolean[] matched = new boolean[all.size()];
        for (int k = 0; k < x.pauses().size(); k++) {
            Scenario.PauseExpect e = x.pauses().get(k);
            List<String> out = new ArrayList<>();
            JsonNode found = null;
            List<String> nearMisses = new ArrayList<>();
            for (int i = 0; i < all.size() && found == null; i++) {
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
                List<String> explained = explanationMisses(e, p);
                if (!explained.isEmpty()) {
                    nearMisses.add("pause " + p.path("id").asText() + ": " + String.join("; ", explained));
                    continue;
                }
                matched[i] = true;
                found = p;
            }
            if (found == null) {
                out.add("no " + e.cause().toLowerCase(Locale.ROOT) + " pause of " + e.release() + (e.rule() == null ? "" : " by rule " + e.rule())
                        + (e.cohort() == null ? "" : " on cohort " + e.cohort()) + (e.afterStep() == null ? "" : " after step " + e.afterStep())
                        + (nearMisses.isEmpty() ? "" : " whose explanation fits (" + String.join("; ", nearMisses) + ")"));
            }
            checks.add(new Check("pauses[" + k + "]", e.timing(), out, found == null ? null : labTime(found.path("at"), o.labZero())));
        }
        List<String> unexpected = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            if (!matched[i]) unexpected.add("unexpected pause of " + releaseOf.get(i) + ": " + all.get(i).path("reason").asText());
        }
        checks.add(new Check("unexpected pauses", Scenario.Timing.ANY, unexpected, null));
    }

    /** The words and fields the expectation asks of a pause's explanation that it lacks. */
    static List<String> explanationMisses(Scenario.PauseExpect e, JsonNode p) {
        List<String> out = new ArrayList<>();
        if (!e.mentions().isEmpty()) {
            String text = explanationText(p);
            for (String m : e.mentions()) if (!text.contains(m)) out.add("does not mention '" + m + "'");
        }
        e.fields().forEach((pointer, want) -> {
            JsonNode v = p.at(pointer);
            String have = v.isMissingNode() || v.isNull() ? null : v.isValueNode() ? v.asText() : v.toString();
            if (!want.equals(have)) out.add(pointer + " is " + (have == null ? "absent" : "'" + have + "'") + ", expected '" + want + "'");
        });
        return out;
    }

    /** The pause's reason and every value of its findings, as one text to search. */
    static String explanationText(JsonNode p) {
        StringBuilder sb = new StringBuilder(p.path("reason").asText());
        collect(p.path("findings"), sb);
        return sb.toString();
    }

    private static void collect(JsonNode n, StringBuilder sb) {
        if (n.isValueNode()) {
            sb.append(' ').append(n.asText());
            return;
        }
        var fields = n.fields();
        while (fields.hasNext()) {
            var f = fields.next();
            sb.append(' ').append(f.getKey());
            collect(f.getValue(), sb);
        }
        if (n.isArray()) n.forEach(c -> collect(c, sb));
    }

    static JsonNode deviceView(JsonNode rollout, String device) {
        if (rollout == null) return null;
        for (JsonNode p : rollout.path("phases")) {
            for (JsonNode d : p.path("devices")) if (d.path("device").asText().equals(device)) return d;
        }
        return null;
    }

    /** The controller "says" a word of a unit when it is its bucket, its reported state, its rollback result or one of its flags. */
    static boolean controllerSays(JsonNode view, String word) {
        if (word.equals(view.path("bucket").asText(null)) || word.equals(view.path("state").asText(null))
                || word.equals(view.path("rollbackResult").asText(null)) || word.equals(view.path("flag").asText(null))) {
            return true;
        }
        for (JsonNode f : view.path("flags")) if (word.equals(f.asText())) return true;
        return false;
    }

    private static String describeView(JsonNode view) {
        List<String> parts = new ArrayList<>();
        for (String k : List.of("bucket", "state", "rollbackResult", "flag")) if (view.hasNonNull(k)) parts.add(k + " " + view.path(k).asText());
        if (view.path("flags").size() > 0) parts.add("flags " + view.path("flags"));
        return String.join(", ", parts);
    }

    static JsonNode alert(JsonNode rollout, String kind, String device) {
        if (rollout == null) return null;
        for (JsonNode a : rollout.path("alerts")) {
            if (a.path("kind").asText().equals(kind) && (device == null || device.equals(a.path("deviceId").asText(null)))) return a;
        }
        return null;
    }

    private static Duration labTime(JsonNode at, Instant zero) {
        if (at == null || !at.isTextual() || zero == null) return null;
        return Duration.between(zero, Instant.parse(at.asText()));
    }

    static JsonNode phase(JsonNode rollout, String name) {
        if (rollout == null) return null;
        for (JsonNode p : rollout.path("phases")) {
            if (p.path("name").asText().equals(name) || p.path("cohort").asText().equals(name)) return p;
        }
        return null;
    }
}
