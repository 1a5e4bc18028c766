package rsuota.fleet.policy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * Judges one rule against one cohort's telemetry: the cohort as a whole, then each slice the rule
 * names (variant, region, corridor), each against the absolute threshold or, when the rule has one,
 * against its control group. Pure: the same input gives the same verdicts, so tests drive it with
 * hand-made telemetry and the engine calls it on every tick.
 *
 * <p>Aggregates: availability and dropped ratio are means over devices (each reporting device
 * counts once, whatever its traffic); lag median is the median of the devices' medians; lag p95 is
 * the nearest-rank 95th percentile of the devices' p95s, so one slow device in twenty does not
 * decide. Single devices are judged by {@link PauseRule.DeviceOutliers}. The table of rules, what
 * each aggregates and when it fires is in docs/architecture.md ("Judgement").
 */
public final class RuleEvaluator {
    private RuleEvaluator() {}

    /** The cap on control units named in an explanation. */
    static final int MAX_NAMED_CONTROL = 50;

    /** One verdict of a rule over the cohort ({@code slice} empty) or over one slice of it ({@code {"variant": "rsu-b2"}}). */
    public record Judged(Map<String, String> slice, Verdict verdict) {
        public Judged {
            slice = slice == null ? Map.of() : new TreeMap<>(slice);
        }

        public boolean wholeCohort() {
            return slice.isEmpty();
        }

        /** "variant=rsu-b2", or "" for the cohort. */
        public String sliceKey() {
            StringBuilder b = new StringBuilder();
            slice.forEach((k, v) -> b.append(b.length() == 0 ? "" : ",").append(k).append('=').append(v));
            return b.toString();
        }
    }

    /** The cohort-level verdict. */
    public static Verdict evaluate(PauseRule rule, CohortTelemetry t) {
        return judge(rule, t).get(0).verdict();
    }

    /** The cohort-level verdict first, then one per slice (dimension by dimension, values in order). */
    public static List<Judged> judge(PauseRule rule, CohortTelemetry t) {
        List<Judged> out = new ArrayList<>();
        if (rule instanceof PauseRule.OpenSev1) {
            int n = t.openSev1().size();
            out.add(new Judged(Map.of(), rule.breaches(n) ? new Verdict.Breach(n, 0, List.of()) : new Verdict.Clear(n, 0)));
            return out;
        }
        if (rule instanceof PauseRule.RollbackRateAbove) {
            out.add(new Judged(Map.of(), rollbackRate(rule, t)));
            return out;
        }
        out.add(new Judged(Map.of(), over(rule, t.reporting(), t)));
        for (String dim : rule.slices()) {
            Map<String, Map<String, DeviceKpis>> groups = new TreeMap<>();
            t.reporting().forEach((id, k) -> {
                String v = t.attributes().getOrDefault(id, Map.of()).get(dim);
                if (v != null && !v.isEmpty()) groups.computeIfAbsent(v, x -> new TreeMap<>()).put(id, k);
            });
            groups.forEach((value, members) -> out.add(new Judged(Map.of(dim, value), over(rule, members, t))));
        }
        return out;
    }

    /**
     * A cohort KPI rule over each device's mean across a whole observation window (from the store),
     * against its absolute threshold: the exit criterion "availability over the 48 h". Rules that
     * judge single devices, release-wide facts or a control group return null (they judge the
     * sliding window only).
     */
    public static Verdict overWindow(PauseRule rule, Map<String, DeviceKpis> means) {
        if (!(rule instanceof PauseRule.AvailabilityBelow || rule instanceof PauseRule.LagMedianAbove || rule instanceof PauseRule.LagP95Above
                || rule instanceof PauseRule.DroppedRatioAbove) || rule.control() != null) {
            return null;
        }
        return over(rule, means, new CohortTelemetry(0, "", means.size(), means, List.of(), List.of(), List.of(), List.of()));
    }

    private static Verdict rollbackRate(PauseRule rule, CohortTelemetry t) {
        if (t.dispatched() < rule.minDevices() || t.dispatched() == 0) return new Verdict.Inconclusive(t.dispatched(), Math.max(1, rule.minDevices()));
        // Units that fell back by themselves (failed trial boot, failed health); obeying an operator's order is not a fault of the release.
        TreeSet<String> back = new TreeSet<>(t.rolledBack());
        double rate = (double) back.size() / t.dispatched();
        return rule.breaches(rate) ? new Verdict.Breach(rate, t.dispatched(), List.copyOf(back)) : new Verdict.Clear(rate, t.dispatched());
    }

    /** One rule over one set of reporting devices (the cohort, or a slice of it). */
    private static Verdict over(PauseRule rule, Map<String, DeviceKpis> rep, CohortTelemetry t) {
        int n = rep.size();
        if (n < rule.minDevices() || n == 0) return new Verdict.Inconclusive(n, Math.max(1, rule.minDevices()));
        if (rule instanceof PauseRule.DeviceOutliers o) return outliers(o, rep);
        Kpi kpi = Kpi.of(rule);
        if (rule.control() != null) return againstControl(rule, kpi, rep, t);
        double observed = kpi.aggregate(rep.values());
        if (!rule.breaches(observed)) return new Verdict.Clear(observed, n);
        List<String> offending = new ArrayList<>();
        Map<String, Double> values = new LinkedHashMap<>();
        rep.forEach((id, k) -> {
            double v = kpi.value.applyAsDouble(k);
            if (rule.breaches(v)) {
                offending.add(id);
                values.put(id, v);
            }
        });
        return new Verdict.Breach(observed, n, offending, new Verdict.Evidence(values, null));
    }

    private static Verdict outliers(PauseRule.DeviceOutliers o, Map<String, DeviceKpis> rep) {
        Kpi kpi = Kpi.named(o.kpi());
        List<String> crossing = new ArrayList<>();
        Map<String, Double> values = new LinkedHashMap<>();
        rep.forEach((id, k) -> {
            double v = kpi.value.applyAsDouble(k);
            if (o.crosses(v)) {
                crossing.add(id);
                values.put(id, v);
            }
        });
        Verdict.Evidence ev = new Verdict.Evidence(values, null);
        return o.breaches(crossing.size()) ? new Verdict.Breach(crossing.size(), rep.size(), crossing, ev)
                : new Verdict.Clear(crossing.size(), rep.size(), ev);
    }

    /**
     * The judged devices against units of the same corridors (or regions) outside the rollout,
     * over the same window: fires when the judged devices are worse by more than the limit, so a
     * degradation every unit shares (rush hour, a storm) does not pause, and a release worse than
     * its control pauses although absolute thresholds hold.
     */
    private static Verdict againstControl(PauseRule rule, Kpi kpi, Map<String, DeviceKpis> rep, CohortTelemetry t) {
        PauseRule.Control c = rule.control();
        Set<String> places = new TreeSet<>();
        for (String id : rep.keySet()) {
            String p = t.attributes().getOrDefault(id, Map.of()).get(c.by());
            if (p != null && !p.isEmpty()) places.add(p);
        }
        Map<String, DeviceKpis> control = new TreeMap<>();
        for (CohortTelemetry.ControlUnit u : t.controlPool()) {
            if (places.contains(u.attributes().get(c.by())) && !rep.containsKey(u.id())) control.put(u.id(), u.kpis());
        }
        double judged = kpi.aggregate(rep.values());
        List<String> named = control.keySet().stream().limit(MAX_NAMED_CONTROL).toList();
        if (control.size() < c.minDevices()) {
            return new Verdict.Inconclusive(control.size(), c.minDevices(), new Verdict.Evidence(Map.of(),
                    new Verdict.ControlComparison(c.by(), c.compare(), c.limit(), judged, rep.size(), Double.NaN, control.size(), c.minDevices(), named)));
        }
        double base = kpi.aggregate(control.values());
        Verdict.ControlComparison cmp = new Verdict.ControlComparison(c.by(), c.compare(), c.limit(), judged, rep.size(), base, control.size(),
                c.minDevices(), named);
        double worse = worse(rule, c, judged, base);
        if (!(worse > c.limit())) return new Verdict.Clear(worse, rep.size(), new Verdict.Evidence(Map.of(), cmp));
        List<String> offending = new ArrayList<>();
        Map<String, Double> values = new LinkedHashMap<>();
        rep.forEach((id, k) -> {
            double v = kpi.value.applyAsDouble(k);
            if (worse(rule, c, v, base) > c.limit()) {
                offending.add(id);
                values.put(id, v);
            }
        });
        return new Verdict.Breach(worse, rep.size(), offending, new Verdict.Evidence(values, cmp));
    }

    /** How much worse {@code value} is than {@code base}: a difference in the KPI's unit, or a ratio (1 = as good). */
    static double worse(PauseRule rule, PauseRule.Control c, double value, double base) {
        boolean lowerIsWorse = rule.comparison().equals("<");
        if (c.compare().equals("difference")) return lowerIsWorse ? base - value : value - base;
        double num = lowerIsWorse ? base : value;
        double den = lowerIsWorse ? value : base;
        if (den == 0) return num == 0 ? 1 : Double.POSITIVE_INFINITY;
        return num / den;
    }

    /** A KPI: how one device's value is read and how a set of devices is aggregated. */
    enum Kpi {
        AVAILABILITY(DeviceKpis::availability, 0),
        LAG_MEDIAN(DeviceKpis::lagMedianMs, 0.5),
        LAG_P95(DeviceKpis::lagP95Ms, 0.95),
        DROPPED(DeviceKpis::droppedRatio, 0);

        final ToDoubleFunction<DeviceKpis> value;
        /** 0: the mean; else the nearest-rank percentile. */
        final double percentile;

        Kpi(ToDoubleFunction<DeviceKpis> value, double percentile) {
            this.value = value;
            this.percentile = percentile;
        }

        static Kpi of(PauseRule rule) {
            if (rule instanceof PauseRule.AvailabilityBelow) return AVAILABILITY;
            if (rule instanceof PauseRule.DroppedRatioAbove) return DROPPED;
            if (rule instanceof PauseRule.LagMedianAbove) return LAG_MEDIAN;
            if (rule instanceof PauseRule.LagP95Above) return LAG_P95;
            throw new IllegalArgumentException("rule " + rule.name() + " judges no device KPI");
        }

        static Kpi named(String kpi) {
            return switch (kpi) {
                case "availability" -> AVAILABILITY;
                case "lag-median" -> LAG_MEDIAN;
                case "lag-p95" -> LAG_P95;
                case "dropped-ratio" -> DROPPED;
                default -> throw new IllegalArgumentException("unknown kpi " + kpi);
            };
        }

        double aggregate(java.util.Collection<DeviceKpis> ks) {
            double[] v = ks.stream().mapToDouble(value).toArray();
            if (percentile == 0) {
                double sum = 0;
                for (double x : v) sum += x;
                return sum / v.length;
            }
            Arrays.sort(v);
            int rank = (int) Math.ceil(percentile * v.length);
            return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
        }
    }
}
