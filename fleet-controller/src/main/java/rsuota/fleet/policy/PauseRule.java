package rsuota.fleet.policy;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Duration;
import java.util.List;

/**
 * A condition over a cohort's telemetry that pauses a rollout when it holds for {@link #sustained()}
 * while at least {@link #minDevices()} devices report (fewer: the verdict is inconclusive, which
 * holds the phase and asks a human). Thresholds are typed values checked when the rule is made;
 * nothing is parsed at evaluation time.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "rule")
@JsonSubTypes({
        @JsonSubTypes.Type(value = PauseRule.AvailabilityBelow.class, name = PauseRule.AvailabilityBelow.NAME),
        @JsonSubTypes.Type(value = PauseRule.LagMedianAbove.class, name = PauseRule.LagMedianAbove.NAME),
        @JsonSubTypes.Type(value = PauseRule.LagP95Above.class, name = PauseRule.LagP95Above.NAME),
        @JsonSubTypes.Type(value = PauseRule.DroppedRatioAbove.class, name = PauseRule.DroppedRatioAbove.NAME),
        @JsonSubTypes.Type(value = PauseRule.RollbackRateAbove.class, name = PauseRule.RollbackRateAbove.NAME),
        @JsonSubTypes.Type(value = PauseRule.OpenSev1.class, name = PauseRule.OpenSev1.NAME),
        @JsonSubTypes.Type(value = PauseRule.DeviceOutliers.class, name = PauseRule.DeviceOutliers.NAME)})
public sealed interface PauseRule permits PauseRule.AvailabilityBelow, PauseRule.LagMedianAbove, PauseRule.LagP95Above,
        PauseRule.DroppedRatioAbove, PauseRule.RollbackRateAbove, PauseRule.OpenSev1, PauseRule.DeviceOutliers {

    /** Device attributes a rule may slice a cohort by. */
    List<String> SLICE_DIMENSIONS = List.of("variant", "region", "corridor");

    /**
     * Besides the whole cohort, judge each slice of it by these attributes (one verdict per
     * variant, region or corridor present): a bad variant is not hidden by a good cohort mean.
     * A slice below the rule's minDevices is inconclusive for itself and holds nothing.
     */
    default List<String> slices() {
        return List.of();
    }

    /** Judge against a control group instead of the absolute threshold (null: absolute). */
    default Control control() {
        return null;
    }

    /**
     * A control group: units of the same {@code by} (corridor or region) as the judged devices that
     * this rollout has not dispatched and that run the previous release, over the same window. The
     * rule then fires when the judged devices are worse than the control by more than
     * {@code limit}: a difference in the KPI's unit, or a ratio (1.05: 5 % worse). Fewer than
     * {@code minDevices} control units reporting is inconclusive, like too few judged devices.
     */
    record Control(String by, String compare, double limit, int minDevices) {
        public Control {
            if (!List.of("corridor", "region").contains(by)) throw new IllegalArgumentException("control.by must be corridor or region, got '" + by + "'");
            if (!List.of("difference", "ratio").contains(compare)) {
                throw new IllegalArgumentException("control.compare must be difference or ratio, got '" + compare + "'");
            }
            if (!Double.isFinite(limit) || limit < 0) throw new IllegalArgumentException("control.limit must be a number >= 0, got " + limit);
            if (compare.equals("ratio") && limit < 1) throw new IllegalArgumentException("control.limit of a ratio must be >= 1 (1.05 = 5 % worse), got " + limit);
            if (minDevices < 1) throw new IllegalArgumentException("control.minDevices must be >= 1");
        }
    }

    /** Stable name, used in pause events, timers, metrics and the API. */
    String name();

    /** How long the breach must hold, evaluation after evaluation, before the rule fires. */
    Duration sustained();

    /** Fewest reporting devices for a conclusive verdict. */
    int minDevices();

    /** The threshold as a number in {@link #unit()}. */
    double limit();

    /** "ratio", "ms" or "incidents". */
    String unit();

    /** "<" when the rule fires below the limit, ">" when above. */
    String comparison();

    default boolean breaches(double observed) {
        return comparison().equals("<") ? observed < limit() : observed > limit();
    }

    /** Cohort mean availability (0..1) below {@code threshold}. */
    record AvailabilityBelow(double threshold, Duration sustained, int minDevices, List<String> slices, Control control) implements PauseRule {
        public static final String NAME = "availability-below";

        public AvailabilityBelow {
            ratio(threshold, "availability threshold");
            basis(sustained, minDevices);
            slices = checkSlices(slices);
        }

        public AvailabilityBelow(double threshold, Duration sustained, int minDevices) {
            this(threshold, sustained, minDevices, List.of(), null);
        }

        public String name() { return NAME; }
        public double limit() { return threshold; }
        public String unit() { return "ratio"; }
        public String comparison() { return "<"; }
    }

    /** Median over the cohort's devices of their event-lag median above {@code threshold}. */
    record LagMedianAbove(Duration threshold, Duration sustained, int minDevices, List<String> slices, Control control) implements PauseRule {
        public static final String NAME = "lag-median-above";

        public LagMedianAbove {
            positive(threshold, "lag median threshold");
            basis(sustained, minDevices);
            slices = checkSlices(slices);
        }

        public LagMedianAbove(Duration threshold, Duration sustained, int minDevices) {
            this(threshold, sustained, minDevices, List.of(), null);
        }

        public String name() { return NAME; }
        public double limit() { return threshold.toMillis(); }
        public String unit() { return "ms"; }
        public String comparison() { return ">"; }
    }

    /** 95th percentile over the cohort's devices of their event-lag p95 above {@code threshold}. */
    record LagP95Above(Duration threshold, Duration sustained, int minDevices, List<String> slices, Control control) implements PauseRule {
        public static final String NAME = "lag-p95-above";

        public LagP95Above {
            positive(threshold, "lag p95 threshold");
            basis(sustained, minDevices);
            slices = checkSlices(slices);
        }

        public LagP95Above(Duration threshold, Duration sustained, int minDevices) {
            this(threshold, sustained, minDevices, List.of(), null);
        }

        public String name() { return NAME; }
        public double limit() { return threshold.toMillis(); }
        public String unit() { return "ms"; }
        public String comparison() { return ">"; }
    }

    /** Cohort mean dropped-event ratio (0..1) above {@code threshold}. */
    record DroppedRatioAbove(double threshold, Duration sustained, int minDevices, List<String> slices, Control control) implements PauseRule {
        public static final String NAME = "dropped-ratio-above";

        public DroppedRatioAbove {
            ratio(threshold, "dropped ratio threshold");
            basis(sustained, minDevices);
            slices = checkSlices(slices);
        }

        public DroppedRatioAbove(double threshold, Duration sustained, int minDevices) {
            this(threshold, sustained, minDevices, List.of(), null);
        }

        public String name() { return NAME; }
        public double limit() { return threshold; }
        public String unit() { return "ratio"; }
        public String comparison() { return ">"; }
    }

    /**
     * Share of the cohort's dispatched devices that fell back by themselves (a failed trial boot or a
     * failed health commit on the box) above {@code threshold}; units that obeyed an operator's
     * rollback order do not count. The sample is the dispatched devices.
     */
    record RollbackRateAbove(double threshold, Duration sustained, int minDevices) implements PauseRule {
        public static final String NAME = "rollback-rate-above";

        public RollbackRateAbove {
            ratio(threshold, "rollback rate threshold");
            basis(sustained, minDevices);
        }

        public String name() { return NAME; }
        public double limit() { return threshold; }
        public String unit() { return "ratio"; }
        public String comparison() { return ">"; }
    }

    /** Any open Sev1 incident linked to the release; it needs no devices, so it is never inconclusive. */
    record OpenSev1(Duration sustained) implements PauseRule {
        public static final String NAME = "open-sev1";

        public OpenSev1 {
            basis(sustained, 0);
        }

        public String name() { return NAME; }
        public int minDevices() { return 0; }
        public double limit() { return 0; }
        public String unit() { return "incidents"; }
        public String comparison() { return ">"; }
    }

    /**
     * Single devices, not the mean: fires when more than {@code maxDevices} reporting devices have
     * their own {@code kpi} across {@code threshold} (0: any one device), so one unit at 90 %
     * availability among ten at 100 % is seen. The observed value is that count; the explanation
     * names each device with its value.
     *
     * @param kpi       availability (fires below), lag-median, lag-p95 (ms) or dropped-ratio (fire above)
     * @param threshold in the KPI's unit: a ratio 0..1, or milliseconds for the lags
     */
    record DeviceOutliers(String kpi, double threshold, int maxDevices, Duration sustained, int minDevices, List<String> slices)
            implements PauseRule {
        public static final String NAME = "device-outliers";
        public static final List<String> KPIS = List.of("availability", "lag-median", "lag-p95", "dropped-ratio");

        public DeviceOutliers {
            if (!KPIS.contains(kpi)) throw new IllegalArgumentException("kpi must be one of " + KPIS + ", got '" + kpi + "'");
            if (kpi.startsWith("lag")) {
                if (!(threshold > 0) || Double.isInfinite(threshold)) throw new IllegalArgumentException(kpi + " threshold must be a positive duration");
            } else {
                ratio(threshold, kpi + " threshold");
            }
            if (maxDevices < 0) throw new IllegalArgumentException("maxDevices must be >= 0 (0: any one device fires the rule)");
            basis(sustained, minDevices);
            slices = checkSlices(slices);
        }

        public String name() { return NAME; }
        public double limit() { return maxDevices; }
        public String unit() { return "devices"; }
        public String comparison() { return ">"; }

        /** Whether one device's own value crosses the threshold. */
        public boolean crosses(double value) {
            return kpi.equals("availability") ? value < threshold : value > threshold;
        }

        /** "< 0.95 ratio" or "> 2000 ms": the per-device threshold in words. */
        public String deviceThreshold() {
            return (kpi.equals("availability") ? "< " : "> ") + threshold + (kpi.startsWith("lag") ? " ms" : " ratio");
        }
    }

    private static List<String> checkSlices(List<String> s) {
        if (s == null) return List.of();
        for (String d : s) {
            if (!SLICE_DIMENSIONS.contains(d)) throw new IllegalArgumentException("slices: '" + d + "' is not one of " + SLICE_DIMENSIONS);
        }
        if (new java.util.HashSet<>(s).size() != s.size()) throw new IllegalArgumentException("slices lists a dimension twice: " + s);
        return List.copyOf(s);
    }

    private static void ratio(double v, String what) {
        if (!(v >= 0 && v <= 1)) throw new IllegalArgumentException(what + " must be within 0..1, got " + v);
    }

    private static void positive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException(what + " must be a positive duration");
    }

    private static void basis(Duration sustained, int minDevices) {
        if (sustained == null || sustained.isNegative()) throw new IllegalArgumentException("sustained must be a duration >= 0");
        if (minDevices < 0) throw new IllegalArgumentException("minDevices must be >= 0");
    }
}
