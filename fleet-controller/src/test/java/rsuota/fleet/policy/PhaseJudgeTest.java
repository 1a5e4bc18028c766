package rsuota.fleet.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One phase's judgement in one tick, as a table: the rule, the cohort's availability per unit, the
 * timer the store held and how long ago its breach began -> the verdict, whether it fires, the timer
 * to persist and the attention line. Pure: no store, no clock.
 */
class PhaseJudgeTest {
    static final Instant NOW = Instant.parse("2026-12-04T12:00:00Z");
    static final Duration TEN_MIN = Duration.ofMinutes(10);
    static final PauseRule AVAIL = new PauseRule.AvailabilityBelow(0.99, TEN_MIN, 3, List.of(), null);
    static final PauseRule AVAIL_BY_VARIANT = new PauseRule.AvailabilityBelow(0.99, TEN_MIN, 2, List.of("variant"), null);
    static final PauseRule SEV1 = new PauseRule.OpenSev1(Duration.ZERO);

    /** Units a1..aN of variant rsu-a1 and b1..bM of rsu-b2 with the given availabilities, cohort 7. */
    static CohortTelemetry cohort(double[] a, double[] b, List<String> sev1) {
        Map<String, DeviceKpis> rep = new LinkedHashMap<>();
        Map<String, Map<String, String>> attrs = new LinkedHashMap<>();
        for (int i = 0; i < a.length; i++) {
            rep.put("a" + i, new DeviceKpis(a[i], 300, 2000, 0));
            attrs.put("a" + i, Map.of("variant", "rsu-a1", "region", "north", "corridor", "c1"));
        }
        for (int i = 0; i < b.length; i++) {
            rep.put("b" + i, new DeviceKpis(b[i], 300, 2000, 0));
            attrs.put("b" + i, Map.of("variant", "rsu-b2", "region", "north", "corridor", "c1"));
        }
        return new CohortTelemetry(7, "pilot", a.length + b.length, rep, List.of(), List.of(), List.of(), sev1, attrs, List.of());
    }

    static double[] all(int n, double v) {
        double[] out = new double[n];
        java.util.Arrays.fill(out, v);
        return out;
    }

    /**
     * @param breachFor  null: the store holds no timer for the key; else a breach began this long ago
     * @param verdictKey where the verdict lands in the result's map
     * @param kind       its kind
     * @param fires      whether the rule fires this tick
     * @param timerKey   the key of the one timer that changes (null: none changes)
     * @param attention  whether an inconclusive line is raised
     */
    record Row(String name, PauseRule rule, CohortTelemetry t, boolean current, String storedKey, Duration breachFor, String verdictKey,
               String kind, boolean fires, String timerKey, boolean attention) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> table() {
        CohortTelemetry healthy = cohort(all(4, 1.0), new double[0], List.of());
        CohortTelemetry sick = cohort(all(4, 0.9), new double[0], List.of());
        CohortTelemetry tooFew = cohort(all(2, 0.9), new double[0], List.of());
        CohortTelemetry bSick = cohort(all(10, 1.0), all(2, 0.95), List.of()); // cohort mean 0.992 holds, the rsu-b2 slice (0.95) does not
        CohortTelemetry sev1 = cohort(all(4, 1.0), new double[0], List.of("INC-1"));
        return Stream.of(
                new Row("clear, no timer: nothing to persist", AVAIL, healthy, true, null, null, "availability-below", "clear", false, null, false),
                new Row("a first breach starts the timer and does not fire", AVAIL, sick, true, null, null, "availability-below", "breach", false,
                        "availability-below@7", false),
                new Row("a breach held 9 min of 10 does not fire, timer unchanged", AVAIL, sick, true, "availability-below@7", Duration.ofMinutes(9),
                        "availability-below", "breach", false, null, false),
                new Row("a breach held 10 min fires", AVAIL, sick, true, "availability-below@7", TEN_MIN, "availability-below", "breach", true, null, false),
                new Row("clear after a breach resets the timer", AVAIL, healthy, true, "availability-below@7", Duration.ofMinutes(9),
                        "availability-below", "clear", false, "availability-below@7", false),
                new Row("too few units: inconclusive, attention, timer reset", AVAIL, tooFew, true, "availability-below@7", TEN_MIN,
                        "availability-below", "inconclusive", false, "availability-below@7", true),
                new Row("a slice breach has its own timer and verdict key", AVAIL_BY_VARIANT, bSick, true, null, null,
                        "availability-below[variant=rsu-b2]", "breach", false, "availability-below@7/variant=rsu-b2", false),
                new Row("a slice breach held long enough fires", AVAIL_BY_VARIANT, bSick, true, "availability-below@7/variant=rsu-b2", TEN_MIN,
                        "availability-below[variant=rsu-b2]", "breach", true, null, false),
                new Row("an open Sev1 fires at once on the current phase, one timer per rollout", SEV1, sev1, true, null, null, "open-sev1", "breach", true,
                        "open-sev1", false),
                new Row("release-wide rules are not judged on an earlier phase", SEV1, sev1, false, null, null, null, null, false, null, false))
                .map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void judgesAPhase(Row row) {
        Map<String, SustainedTimer> stored = new LinkedHashMap<>();
        if (row.storedKey() != null) {
            stored.put(row.storedKey(), row.breachFor() == null ? SustainedTimer.IDLE : new SustainedTimer(NOW.minus(row.breachFor()), "breach"));
        }
        PhaseJudge.Result r = PhaseJudge.judge(List.of(row.rule()), row.t(), row.current(), stored, NOW);
        if (row.verdictKey() == null) {
            assertThat(r.verdicts()).isEmpty();
        } else {
            assertThat(r.verdicts()).containsKey(row.verdictKey());
            assertThat(r.verdicts().get(row.verdictKey()).kind()).isEqualTo(row.kind());
        }
        assertThat(r.fired()).as("fires").hasSize(row.fires() ? 1 : 0);
        if (row.timerKey() == null) assertThat(r.timers()).as("timers to persist").isEmpty();
        else assertThat(r.timers()).as("timers to persist").containsOnlyKeys(row.timerKey());
        assertThat(r.inconclusive()).as("attention").hasSize(row.attention() ? 1 : 0);
        if (row.attention()) assertThat(r.inconclusive().get(0)).contains("2 of 3 required devices reporting");
    }
}
