package rsuota.lab.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A pause event as the controller returns it, told in words: the one-line headline and the full explanation. */
public final class PauseText {
    private PauseText() {}

    /** "paused by rule availability-below on cohort pilot: observed 0.9689 < 0.995 for 4 s; offending rsu-p01, rsu-p02". */
    public static String headline(JsonNode pe) {
        String cause = pe.path("cause").asText().toLowerCase(Locale.ROOT);
        JsonNode f = pe.path("findings").path(0);
        if (cause.equals("rule") && "open-sev1".equals(f.path("rule").asText())) {
            return "PAUSED by rule open-sev1: open Sev1 incident(s) " + join(f.path("incidents")) + " against the release";
        }
        if (cause.equals("rule") && !f.isMissingNode()) {
            StringBuilder slice = new StringBuilder();
            f.path("slice").fields().forEachRemaining(e -> slice.append(", ").append(e.getKey()).append(' ').append(e.getValue().asText()));
            return "PAUSED by rule " + f.path("rule").asText() + (f.hasNonNull("cohort") ? " on cohort " + f.path("cohort").asText() : "") + slice
                    + (f.path("control").isObject() ? " (against its control group)" : "") + ": " + observed(f) + offending(f);
        }
        return "PAUSED (" + cause + ") by " + pe.path("actor").asText() + ": " + pe.path("reason").asText();
    }

    /** The whole story of one pause, one fact per line; lab times relative to {@code zero}. */
    public static List<String> explain(JsonNode pe, Instant zero) {
        List<String> out = new ArrayList<>();
        String cause = pe.path("cause").asText().toLowerCase(Locale.ROOT);
        out.add("Pause event " + pe.path("id").asText() + " of rollout " + pe.path("rolloutId").asText() + " at lab " + lab(pe.path("at"), zero)
                + " by " + pe.path("actor").asText() + " (" + cause + ")");
        out.add("  Reason: " + pe.path("reason").asText());
        for (JsonNode f : pe.path("findings")) {
            out.add("  Rule " + f.path("rule").asText() + " (rule set v" + f.path("ruleVersion").asText() + ")"
                    + (f.hasNonNull("cohort") ? " over cohort " + f.path("cohort").asText() : " over the whole release"));
            out.add("    observed " + observed(f) + ", averaged per device over a " + human(f.path("window")) + " window");
            out.add("    breached since lab " + lab(f.path("breachSince"), zero) + ", had to hold " + human(f.path("sustained"))
                    + ", fired at lab " + lab(f.path("firedAt"), zero));
            out.add("    sample: " + f.path("sample").asText() + " reporting device(s), at least " + f.path("required").asText() + " required"
                    + (f.path("offline").isEmpty() ? "" : "; offline: " + join(f.path("offline"))));
            if (f.path("slice").size() > 0) {
                List<String> sl = new ArrayList<>();
                f.path("slice").fields().forEachRemaining(e -> sl.add(e.getKey() + " " + e.getValue().asText()));
                out.add("    slice: " + String.join(", ", sl) + " (the cohort as a whole may hold)");
            }
            if (f.path("values").size() > 0) {
                List<String> dv = new ArrayList<>();
                f.path("values").fields().forEachRemaining(e -> dv.add(e.getKey() + " " + String.format(Locale.ROOT, "%.4f", e.getValue().asDouble())));
                out.add("    offending devices and their own values: " + String.join(", ", dv));
            } else if (!f.path("offending").isEmpty()) {
                out.add("    offending devices: " + join(f.path("offending")));
            }
            JsonNode c = f.path("control");
            if (c.isObject()) {
                out.add("    control group (" + c.path("by").asText() + "): judged " + String.format(Locale.ROOT, "%.4f", c.path("judgedValue").asDouble())
                        + " over " + c.path("judgedSize").asText() + " device(s), control " + String.format(Locale.ROOT, "%.4f", c.path("controlValue").asDouble())
                        + " over " + c.path("controlSize").asText() + " unit(s) (at least " + c.path("controlRequired").asText() + "), "
                        + c.path("compare").asText() + " limit " + c.path("limit").asText() + "; control units " + join(c.path("controlDevices")));
            }
            if (!f.path("incidents").isEmpty()) out.add("    open Sev1 incidents: " + join(f.path("incidents")));
        }
        pe.path("links").fields().forEachRemaining(l -> out.add("  Link " + l.getKey() + ": " + l.getValue().asText()));
        if (pe.hasNonNull("resumedAt")) {
            out.add("  Resumed at lab " + lab(pe.path("resumedAt"), zero) + " by " + pe.path("resumedBy").asText() + ": " + pe.path("resumeReason").asText());
        } else {
            out.add("  Not resumed: " + ("rule".equals(cause) ? "a release manager must acknowledge these findings to resume" : "still holding"));
        }
        return out;
    }

    /** What people did about the pause afterwards: the rollout's audit entries from the pause on. */
    public static List<String> aftermath(JsonNode pe, List<JsonNode> audit, Instant zero) {
        List<String> out = new ArrayList<>();
        String target = "rollout:" + pe.path("rolloutId").asText();
        Instant at = Instant.parse(pe.path("at").asText());
        for (JsonNode e : audit) {
            if (!target.equals(e.path("target").asText()) || Instant.parse(e.path("at").asText()).isBefore(at)) continue;
            String action = e.path("action").asText();
            if (action.equals("rollout.pause") && e.path("detail").path("pauseEvent").asLong() == pe.path("id").asLong()) continue;
            out.add("Then at lab " + lab(e.path("at"), zero) + ": " + action + " by " + e.path("actor").asText()
                    + (e.path("reason").asText("").isEmpty() ? "" : " (\"" + e.path("reason").asText() + "\")"));
        }
        return out;
    }

    static String observed(JsonNode f) {
        String unit = f.path("unit").asText();
        String held = "PT0S".equals(f.path("sustained").asText()) ? " (fires at once)" : " for " + human(f.path("sustained"));
        return num(f.path("observed").asDouble(), unit) + " " + f.path("comparison").asText() + " threshold " + num(f.path("threshold").asDouble(), unit)
                + held;
    }

    private static String offending(JsonNode f) {
        return f.path("offending").isEmpty() ? "" : "; offending " + join(f.path("offending"));
    }

    static String num(double v, String unit) {
        return switch (unit) {
            case "ms" -> Math.round(v) + " ms";
            case "ratio" -> String.format(Locale.ROOT, "%.4f", v);
            default -> v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.3f", v);
        };
    }

    private static String human(JsonNode isoDuration) {
        try {
            return rsuota.lab.scenario.Units.human(Duration.parse(isoDuration.asText()));
        } catch (java.time.format.DateTimeParseException e) {
            return isoDuration.asText();
        }
    }

    static String lab(JsonNode instant, Instant zero) {
        try {
            Duration d = Duration.between(zero, Instant.parse(instant.asText()));
            return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
        } catch (java.time.format.DateTimeParseException e) {
            return instant.asText();
        }
    }

    private static String join(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.forEach(n -> out.add(n.asText()));
        return String.join(", ", out);
    }
}
