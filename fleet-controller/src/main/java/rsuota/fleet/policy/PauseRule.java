package rsuota.fleet.policy;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Duration;

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
        @JsonSubTypes.Type(value = PauseRule.OpenSev1.class, name = PauseRule.OpenSev1.NAME)})
public sealed interface PauseRule permits PauseRule.AvailabilityBelow, PauseRule.LagMedianAbove, PauseRule.LagP95Above,
        PauseRule.DroppedRatioAbove, PauseRule.RollbackRateAbove, PauseRule.OpenSev1 {

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
    record AvailabilityBelow(double threshold, Duration sustained, int minDevices) implements PauseRule {
        public static final String NAME = "availability-below";

        public AvailabilityBelow {
            ratio(threshold, "availability threshold");
            basis(sustained, minDevices);
        }

        public String name() { return NAME; }
        public double limit() { return threshold; }
        public String unit() { return "ratio"; }
        public String comparison() { return "<"; }
    }

    /** Median over the cohort's devices of their event-lag median above {@code threshold}. */
    record LagMedianAbove(Duration threshold, Duration sustained, int minDevices) implements PauseRule {
        public static final String NAME = "lag-median-above";

        public LagMedianAbove {
            positive(threshold, "lag median threshold");
            basis(sustained, minDevices);
        }

        public String name() { return NAME; }
        public double limit() { return threshold.toMillis(); }
        public String unit() { return "ms"; }
        public String comparison() { return ">"; }
    }

    /** 95th percentile over the cohort's devices of their event-lag p95 above {@code threshold}. */
    record LagP95Above(Duration threshold, Duration sustained, int minDevices) implements PauseRule {
        public static final String NAME = "lag-p95-above";

        public LagP95Above {
            positive(threshold, "lag p95 threshold");
            basis(sustained, minDevices);
        }

        public String name() { return NAME; }
        public double limit() { return threshold.toMillis(); }
        public String unit() { return "ms"; }
        public String comparison() { return ">"; }
    }

    /** Cohort mean dropped-event ratio (0..1) above {@code threshold}. */
    record DroppedRatioAbove(double threshold, Duration sustained, int minDevices) implements PauseRule {
        public static final String NAME = "dropped-ratio-above";

        public DroppedRatioAbove {
            ratio(threshold, "dropped ratio threshold");
            basis(sustained, minDevices);
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
