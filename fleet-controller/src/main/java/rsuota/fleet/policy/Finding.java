package rsuota.fleet.policy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a rule saw when it fired: the evidence a pause event carries and a human acknowledges.
 *
 * @param rule        rule name
 * @param ruleVersion version of the rule set it belongs to
 * @param cohortId    the cohort it was evaluated over (null for release-wide rules such as Sev1)
 * @param cohort      cohort name
 * @param observed    the aggregate value, in {@code unit}
 * @param comparison  "<" or ">": the rule fires when observed compares so to threshold
 * @param threshold   the limit, in {@code unit}
 * @param unit        "ratio", "ms" or "incidents"
 * @param window      the KPI averaging window
 * @param sustained   how long the breach had to hold
 * @param breachSince first evaluation of the unbroken breach
 * @param firedAt     the evaluation that fired
 * @param sample      devices the verdict rests on
 * @param required    the rule's minimum sample
 * @param offending   devices whose own value crosses the threshold
 * @param offline     dispatched devices that did not report in the window
 * @param incidents   open Sev1 incidents (for open-sev1)
 * @param slice       the slice of the cohort it fired on ({"variant": "rsu-b2"}), empty for the whole cohort
 * @param values      each offending device's own value, in {@code unit} of the KPI (ms for lags)
 * @param control     the comparison with the control group, when the rule has one (observed is then how much worse)
 */
public record Finding(String rule, int ruleVersion, Long cohortId, String cohort, double observed, String comparison,
                      double threshold, String unit, Duration window, Duration sustained, Instant breachSince, Instant firedAt,
                      int sample, int required, List<String> offending, List<String> offline, List<String> incidents,
                      Map<String, String> slice, Map<String, Double> values, Verdict.ControlComparison control) {
    public Finding {
        offending = offending == null ? List.of() : List.copyOf(offending);
        offline = offline == null ? List.of() : List.copyOf(offline);
        incidents = incidents == null ? List.of() : List.copyOf(incidents);
        slice = slice == null ? Map.of() : new TreeMap<>(slice);
        values = values == null ? Map.of() : new TreeMap<>(values);
    }

    /** "availability-below on cohort pilot, variant rsu-b2: observed 0.93 < threshold 0.995" and the devices with their values. */
    public String explain() {
        StringBuilder b = new StringBuilder("rule ").append(rule);
        if (cohort != null) b.append(" on cohort ").append(cohort);
        slice.forEach((k, v) -> b.append(", ").append(k).append(' ').append(v));
        b.append(": ");
        if (control != null) {
            b.append(fmt(control.judgedValue())).append(" over ").append(control.judgedSize()).append(" device(s) against ")
                    .append(fmt(control.controlValue())).append(" over ").append(control.controlSize()).append(" control unit(s) of the same ")
                    .append(control.by()).append(" (at least ").append(control.controlRequired()).append(" required): ")
                    .append(control.compare().equals("ratio") ? "ratio " : "worse by ").append(fmt(observed)).append(" > limit ").append(fmt(control.limit()));
        } else {
            b.append("observed ").append(fmt(observed)).append(' ').append(unit).append(' ').append(comparison).append(" threshold ")
                    .append(fmt(threshold));
        }
        if (sustained != null) b.append(" for ").append(rsuota.fleet.domain.Durations.format(sustained));
        if (!values.isEmpty()) {
            List<String> parts = new java.util.ArrayList<>();
            values.forEach((d, v) -> parts.add(d + " " + fmt(v)));
            b.append("; devices ").append(String.join(", ", parts));
        } else if (!offending.isEmpty()) {
            b.append("; devices ").append(String.join(", ", offending));
        }
        return b.toString();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e12 ? Long.toString((long) v) : String.format(java.util.Locale.ROOT, "%.4f", v);
    }
}
