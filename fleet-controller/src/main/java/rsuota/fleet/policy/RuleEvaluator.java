package rsuota.fleet.policy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * Judges one rule against one cohort's telemetry. Pure: the same input gives the same verdict,
 * so tests drive it with hand-made telemetry and the engine calls it on every tick.
 *
 * <p>Aggregates: availability and dropped ratio are cohort means (each reporting device counts
 * once, whatever its traffic); lag median is the median of the devices' medians; lag p95 is the
 * nearest-rank 95th percentile of the devices' p95s, so one slow device in twenty does not decide.
 */
public final class RuleEvaluator {
    private RuleEvaluator() {}

    public static Verdict evaluate(PauseRule rule, CohortTelemetry t) {
        if (rule instanceof PauseRule.OpenSev1) {
            int n = t.openSev1().size();
            return rule.breaches(n) ? new Verdict.Breach(n, 0, List.of()) : new Verdict.Clear(n, 0);
        }
        if (rule instanceof PauseRule.RollbackRateAbove) {
            if (t.dispatched() < rule.minDevices() || t.dispatched() == 0) return new Verdict.Inconclusive(t.dispatched(), Math.max(1, rule.minDevices()));
            // Units that fell back by themselves (failed trial boot, failed health); obeying an operator's order is not a fault of the release.
            TreeSet<String> back = new TreeSet<>(t.rolledBack());
            double rate = (double) back.size() / t.dispatched();
            return rule.breaches(rate) ? new Verdict.Breach(rate, t.dispatched(), List.copyOf(back)) : new Verdict.Clear(rate, t.dispatched());
        }
        Map<String, DeviceKpis> rep = t.reporting();
        int n = rep.size();
        if (n < rule.minDevices() || n == 0) return new Verdict.Inconclusive(n, Math.max(1, rule.minDevices()));
        ToDoubleFunction<DeviceKpis> kpi;
        double observed;
        if (rule instanceof PauseRule.AvailabilityBelow) {
            kpi = DeviceKpis::availability;
            observed = mean(rep, kpi);
        } else if (rule instanceof PauseRule.DroppedRatioAbove) {
            kpi = DeviceKpis::droppedRatio;
            observed = mean(rep, kpi);
        } else if (rule instanceof PauseRule.LagMedianAbove) {
            kpi = DeviceKpis::lagMedianMs;
            observed = percentile(rep, kpi, 0.5);
        } else {
            kpi = DeviceKpis::lagP95Ms;
            observed = percentile(rep, kpi, 0.95);
        }
        if (!rule.breaches(observed)) return new Verdict.Clear(observed, n);
        List<String> offending = new ArrayList<>();
        rep.forEach((id, k) -> {
            if (rule.breaches(kpi.applyAsDouble(k))) offending.add(id);
        });
        return new Verdict.Breach(observed, n, offending);
    }

    private static double mean(Map<String, DeviceKpis> rep, ToDoubleFunction<DeviceKpis> kpi) {
        double sum = 0;
        for (DeviceKpis k : rep.values()) sum += kpi.applyAsDouble(k);
        return sum / rep.size();
    }

    /** Nearest-rank percentile (the smallest value with at least q of the values at or below it). */
    static double percentile(Map<String, DeviceKpis> rep, ToDoubleFunction<DeviceKpis> kpi, double q) {
        double[] v = rep.values().stream().mapToDouble(kpi).toArray();
        Arrays.sort(v);
        int rank = (int) Math.ceil(q * v.length);
        return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
    }
}
