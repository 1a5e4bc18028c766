package rsuota.fleet.policy;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * URL templates a pause event fills in so that whoever reads it lands on the right dashboard,
 * log query and diagnostics bundle. Placeholders: {controller}, {release}, {rollout}, {cohort},
 * {from}, {to} (epoch ms of the rule window), {device}, and for the finding that fired {expr} (the
 * PromQL of its series, URL-encoded) and {range} (the window as Prometheus writes it, e.g. 300s):
 * {@code --link prometheus=http://prometheus:9090/graph?g0.expr={expr}&g0.range_input={range}}.
 *
 * @param rollout per-rollout links by name (e.g. "dashboard", "logs")
 * @param device  per-device links by name (e.g. "diagnostics", "logs")
 */
public record LinkTemplates(Map<String, String> rollout, Map<String, String> device) {
    /** Device diagnostics on the controller itself; dashboards need a deployment's own templates. */
    public static LinkTemplates defaults() {
        return new LinkTemplates(Map.of(), Map.of("diagnostics", "{controller}/api/v1/devices/{device}/diagnostics"));
    }

    public LinkTemplates {
        rollout = Map.copyOf(rollout);
        device = Map.copyOf(device);
    }

    public LinkTemplates withRollout(String name, String template) {
        Map<String, String> m = new LinkTemplates.Builder(rollout).put(name, template);
        return new LinkTemplates(m, device);
    }

    public LinkTemplates withDevice(String name, String template) {
        Map<String, String> m = new LinkTemplates.Builder(device).put(name, template);
        return new LinkTemplates(rollout, m);
    }

    public Map<String, String> rolloutLinks(String controller, String release, long rolloutId, String cohort, Instant from, Instant to) {
        return rolloutLinks(controller, release, rolloutId, cohort, from, to, null);
    }

    /** As above, with the PromQL of the finding that fired for {expr}. */
    public Map<String, String> rolloutLinks(String controller, String release, long rolloutId, String cohort, Instant from, Instant to, String expr) {
        Map<String, String> out = new TreeMap<>();
        long range = Math.max(1, java.time.Duration.between(from, to).toSeconds());
        rollout.forEach((name, t) -> out.put(name, fill(t, controller, release, rolloutId, cohort, from, to, null)
                .replace("{expr}", enc(expr == null ? "" : expr)).replace("{range}", range + "s")));
        return out;
    }

    public Map<String, Map<String, String>> deviceLinks(String controller, String release, long rolloutId, String cohort,
                                                        Instant from, Instant to, List<String> devices) {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        for (String d : devices) {
            Map<String, String> m = new TreeMap<>();
            device.forEach((name, t) -> m.put(name, fill(t, controller, release, rolloutId, cohort, from, to, d)));
            out.put(d, m);
        }
        return out;
    }

    private static String fill(String t, String controller, String release, long rolloutId, String cohort, Instant from, Instant to, String device) {
        return t.replace("{controller}", controller == null ? "" : controller)
                .replace("{release}", enc(release))
                .replace("{rollout}", Long.toString(rolloutId))
                .replace("{cohort}", enc(cohort))
                .replace("{from}", Long.toString(from.toEpochMilli()))
                .replace("{to}", Long.toString(to.toEpochMilli()))
                .replace("{device}", enc(device));
    }

    private static String enc(String s) {
        return s == null ? "" : java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static final class Builder {
        private final Map<String, String> m;

        Builder(Map<String, String> base) {
            m = new TreeMap<>(base);
        }

        Map<String, String> put(String k, String v) {
            m.put(k, v);
            return m;
        }
    }
}
