package rsuota.fleet.policy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

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
 */
public record Finding(String rule, int ruleVersion, Long cohortId, String cohort, double observed, String comparison,
                      double threshold, String unit, Duration window, Duration sustained, Instant breachSince, Instant firedAt,
                      int sample, int required, List<String> offending, List<String> offline, List<String> incidents) {
    public Finding {
        offending = offending == null ? List.of() : List.copyOf(offending);
        offline = offline == null ? List.of() : List.copyOf(offline);
        incidents = incidents == null ? List.of() : List.copyOf(incidents);
    }
}
