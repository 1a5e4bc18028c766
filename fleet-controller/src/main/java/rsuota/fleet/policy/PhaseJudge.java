package rsuota.fleet.policy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One phase's judgement in one tick, as a pure function: every rule over the phase's cohort and each
 * slice it names ({@link RuleEvaluator#judge}), each (rule, cohort, slice) through its own
 * {@link SustainedTimer}. The engine loads the timers, persists the changed ones and pauses on the first
 * that fired; nothing here reads the store or the clock (docs/architecture.md, "Judgement").
 */
public final class PhaseJudge {
    private PhaseJudge() {}

    /** A rule that fired this tick, on the cohort or one slice of it, breached since {@code breachSince}. */
    public record Fired(PauseRule rule, RuleEvaluator.Judged judged, Instant breachSince) {}

    /**
     * @param verdicts     by rule name (whole cohort) and {@code rule[slice]} (conclusive slices), for the gate
     * @param timers       the timers that changed, by key, to persist
     * @param fired        the rules whose breach held for their {@code sustained}, in rule order
     * @param inconclusive one line per whole-cohort rule that lacks evidence, for the rollout's attention
     */
    public record Result(Map<String, Verdict> verdicts, Map<String, SustainedTimer> timers, List<Fired> fired, List<String> inconclusive) {}

    /**
     * The timer key of a rule on a cohort (or a slice): release-wide rules (open-sev1) have one timer
     * for the rollout, the others one per cohort and slice.
     */
    public static String timerKey(PauseRule rule, long cohortId, RuleEvaluator.Judged j) {
        if (rule instanceof PauseRule.OpenSev1) return rule.name();
        return rule.name() + "@" + cohortId + (j.wholeCohort() ? "" : "/" + j.sliceKey());
    }

    /**
     * Judges {@code rules} over the phase's telemetry {@code t} at {@code now}. Release-wide rules are
     * judged only on the {@code current} phase (once per rollout); {@code timers} are the persisted ones.
     */
    public static Result judge(List<PauseRule> rules, CohortTelemetry t, boolean current, Map<String, SustainedTimer> timers, Instant now) {
        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        Map<String, SustainedTimer> changed = new LinkedHashMap<>();
        List<Fired> fired = new ArrayList<>();
        List<String> inconclusive = new ArrayList<>();
        for (PauseRule rule : rules) {
            if (rule instanceof PauseRule.OpenSev1 && !current) continue;
            // The cohort first, then each slice the rule names; each has its own sustained timer.
            for (RuleEvaluator.Judged j : RuleEvaluator.judge(rule, t)) {
                Verdict v = j.verdict();
                if (j.wholeCohort()) verdicts.put(rule.name(), v);
                else if (!(v instanceof Verdict.Inconclusive)) verdicts.put(rule.name() + "[" + j.sliceKey() + "]", v);
                String key = timerKey(rule, t.cohortId(), j);
                SustainedTimer before = changed.getOrDefault(key, timers.getOrDefault(key, SustainedTimer.IDLE));
                SustainedTimer.Step st = before.observe(v, rule.sustained(), now);
                if (!st.next().equals(before)) changed.put(key, st.next());
                if (st.fires()) fired.add(new Fired(rule, j, st.next().breachSince()));
                if (j.wholeCohort() && v instanceof Verdict.Inconclusive i && t.dispatched() > 0) {
                    Verdict.ControlComparison control = v.evidence().control();
                    inconclusive.add("rule " + rule.name() + " on cohort " + t.cohortName() + " is inconclusive: " + i.sample() + " of " + i.required()
                            + " required " + (control != null ? "control units (" + control.by() + ")" : "devices") + " reporting;"
                            + " a human must judge this phase");
                }
            }
        }
        return new Result(verdicts, changed, fired, inconclusive);
    }
}
