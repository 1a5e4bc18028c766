package rsuota.fleet.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every rule against the same scenarios, as data: fires after exactly its sustained duration and
 * not one evaluation before; clears; flapping input never fires; fewer reporting devices than its
 * minimum is inconclusive; offline devices do not count as reporting.
 */
class PauseRulesTest {
    static final Instant T0 = Instant.parse("2026-03-01T08:00:00Z");
    static final Duration SUSTAINED = Duration.ofMinutes(10);
    static final Duration STEP = Duration.ofSeconds(30);
    static final DeviceKpis GOOD = new DeviceKpis(0.999, 300, 2000, 0.0001);

    /** A rule, and a device KPI set that breaches it. */
    record Case(String name, PauseRule rule, DeviceKpis bad) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> kpiRules() {
        return Stream.of(
                new Case("availability", new PauseRule.AvailabilityBelow(0.995, SUSTAINED, 3), new DeviceKpis(0.95, 300, 2000, 0.0001)),
                new Case("lag median", new PauseRule.LagMedianAbove(Duration.ofSeconds(2), SUSTAINED, 3), new DeviceKpis(0.999, 2500, 2600, 0.0001)),
                new Case("lag p95", new PauseRule.LagP95Above(Duration.ofSeconds(10), SUSTAINED, 3), new DeviceKpis(0.999, 300, 12_000, 0.0001)),
                new Case("dropped", new PauseRule.DroppedRatioAbove(0.001, SUSTAINED, 3), new DeviceKpis(0.999, 300, 2000, 0.01)))
                .map(Arguments::of);
    }

    /** Five dispatched devices, {@code bad} of them reporting the breaching KPIs. */
    static CohortTelemetry cohort(int devices, IntFunction<DeviceKpis> kpis, List<String> offline) {
        Map<String, DeviceKpis> rep = new LinkedHashMap<>();
        for (int i = 0; i < devices; i++) rep.put("d" + i, kpis.apply(i));
        return new CohortTelemetry(1, "pilot", devices + offline.size(), rep, offline, List.of(), List.of(), List.of());
    }

    /** Runs evaluations every STEP from T0; returns the index of the first that fires, or -1. */
    static int firstFire(PauseRule rule, List<CohortTelemetry> series) {
        SustainedTimer timer = SustainedTimer.IDLE;
        for (int i = 0; i < series.size(); i++) {
            Verdict v = RuleEvaluator.evaluate(rule, series.get(i));
            SustainedTimer.Step s = timer.observe(v, rule.sustained(), T0.plus(STEP.multipliedBy(i)));
            if (s.fires()) return i;
            timer = s.next();
        }
        return -1;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kpiRules")
    void firesAfterExactlyItsSustainedDurationNotBefore(Case c) {
        List<CohortTelemetry> series = new ArrayList<>();
        for (int i = 0; i < 40; i++) series.add(cohort(5, d -> c.bad(), List.of()));
        int fired = firstFire(c.rule(), series);
        // Breach first seen at evaluation 0; 10 min / 30 s = evaluation 20 is exactly the sustained duration.
        assertThat(fired).isEqualTo((int) (SUSTAINED.toSeconds() / STEP.toSeconds()));
        SustainedTimer t = SustainedTimer.IDLE;
        SustainedTimer.Step s = null;
        for (int i = 0; i < fired; i++) {
            s = t.observe(RuleEvaluator.evaluate(c.rule(), series.get(i)), SUSTAINED, T0.plus(STEP.multipliedBy(i)));
            assertThat(s.fires()).as("evaluation %d, %s after the breach began", i, STEP.multipliedBy(i)).isFalse();
            t = s.next();
        }
        Instant justBefore = T0.plus(SUSTAINED).minusMillis(1);
        assertThat(t.observe(RuleEvaluator.evaluate(c.rule(), series.get(0)), SUSTAINED, justBefore).fires()).isFalse();
        assertThat(t.observe(RuleEvaluator.evaluate(c.rule(), series.get(0)), SUSTAINED, T0.plus(SUSTAINED)).fires()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kpiRules")
    void healthyCohortIsClearAndABreachThatEndsClears(Case c) {
        assertThat(RuleEvaluator.evaluate(c.rule(), cohort(5, d -> GOOD, List.of()))).isInstanceOf(Verdict.Clear.class);
        Verdict bad = RuleEvaluator.evaluate(c.rule(), cohort(5, d -> c.bad(), List.of()));
        assertThat(bad).isInstanceOfSatisfying(Verdict.Breach.class, b -> assertThat(b.offending()).containsExactly("d0", "d1", "d2", "d3", "d4"));
        SustainedTimer t = SustainedTimer.IDLE.observe(bad, SUSTAINED, T0).next();
        assertThat(t.breachSince()).isEqualTo(T0);
        SustainedTimer cleared = t.observe(RuleEvaluator.evaluate(c.rule(), cohort(5, d -> GOOD, List.of())), SUSTAINED, T0.plus(STEP)).next();
        assertThat(cleared.breachSince()).isNull();
        assertThat(cleared.last()).isEqualTo("clear");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kpiRules")
    void flappingInputNeverFires(Case c) {
        List<CohortTelemetry> series = new ArrayList<>();
        // Bad for 9.5 minutes, good once, bad again, for an hour: never 10 unbroken minutes.
        for (int i = 0; i < 120; i++) series.add(i % 20 == 19 ? cohort(5, d -> GOOD, List.of()) : cohort(5, d -> c.bad(), List.of()));
        assertThat(firstFire(c.rule(), series)).isEqualTo(-1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kpiRules")
    void belowTheMinimumSampleIsInconclusiveAndNeverFires(Case c) {
        CohortTelemetry two = cohort(2, d -> c.bad(), List.of());
        assertThat(RuleEvaluator.evaluate(c.rule(), two)).isInstanceOfSatisfying(Verdict.Inconclusive.class, i -> {
            assertThat(i.sample()).isEqualTo(2);
            assertThat(i.required()).isEqualTo(3);
        });
        List<CohortTelemetry> series = new ArrayList<>();
        for (int i = 0; i < 40; i++) series.add(two);
        assertThat(firstFire(c.rule(), series)).isEqualTo(-1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kpiRules")
    void offlineDevicesDoNotCountAsReporting(Case c) {
        // Five dispatched, three offline: two reporting is below the minimum of three.
        CohortTelemetry t = cohort(2, d -> c.bad(), List.of("d7", "d8", "d9"));
        assertThat(t.dispatched()).isEqualTo(5);
        assertThat(RuleEvaluator.evaluate(c.rule(), t)).isInstanceOf(Verdict.Inconclusive.class);
        // An offline device's last good samples do not dilute the cohort either: the breach is judged on who reports.
        CohortTelemetry three = cohort(3, d -> c.bad(), List.of("d8", "d9"));
        assertThat(RuleEvaluator.evaluate(c.rule(), three)).isInstanceOf(Verdict.Breach.class);
    }

    @Test
    void theWindowHidesOfflineDevicesAndAveragesOnlyRecentSamples() {
        TelemetryWindow w = new TelemetryWindow();
        Duration window = Duration.ofMinutes(5);
        w.record("a", T0, new DeviceKpis(0.90, 100, 200, 0));
        w.record("a", T0.plusSeconds(60), new DeviceKpis(1.0, 300, 400, 0));
        assertThat(w.mean("a", T0.plusSeconds(60), window)).hasValueSatisfying(k -> assertThat(k.availability()).isEqualTo(0.95));
        assertThat(w.mean("a", T0.plusSeconds(330), window)).hasValueSatisfying(k -> assertThat(k.availability()).isEqualTo(1.0));
        assertThat(w.mean("a", T0.plusSeconds(361), window)).isEmpty();
        w.presence("a", false, T0.plusSeconds(90));
        assertThat(w.mean("a", T0.plusSeconds(100), window)).isEmpty();
        w.record("a", T0.plusSeconds(120), new DeviceKpis(0.99, 1, 1, 0));
        assertThat(w.mean("a", T0.plusSeconds(130), window)).isPresent();
        assertThat(w.mean("never", T0, window)).isEmpty();
    }

    @Test
    void rollbackRateCountsUnitsThatFellBackByThemselvesNotThoseThatObeyedAnOrder() {
        PauseRule rule = new PauseRule.RollbackRateAbove(0.05, Duration.ZERO, 10);
        CohortTelemetry oneLocal = new CohortTelemetry(1, "wave-1", 20, Map.of(), List.of(), List.of("d1"), List.of(), List.of());
        CohortTelemetry tenCommanded = new CohortTelemetry(1, "wave-1", 20, Map.of(), List.of(), List.of(),
                List.of("d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10", "d11"), List.of());
        CohortTelemetry both = new CohortTelemetry(1, "wave-1", 20, Map.of(), List.of(), List.of("d1", "d12"), List.of("d2"), List.of());
        assertThat(RuleEvaluator.evaluate(rule, oneLocal)).isInstanceOfSatisfying(Verdict.Clear.class, v -> assertThat(v.observed()).isEqualTo(0.05));
        assertThat(RuleEvaluator.evaluate(rule, tenCommanded)).as("an operator's order is not the release's fault")
                .isInstanceOfSatisfying(Verdict.Clear.class, v -> assertThat(v.observed()).isEqualTo(0.0));
        assertThat(RuleEvaluator.evaluate(rule, both)).isInstanceOfSatisfying(Verdict.Breach.class, v -> {
            assertThat(v.observed()).isEqualTo(0.10);
            assertThat(v.offending()).containsExactly("d1", "d12");
        });
        CohortTelemetry small = new CohortTelemetry(1, "wave-1", 5, Map.of(), List.of(), List.of("d1"), List.of("d2"), List.of());
        assertThat(RuleEvaluator.evaluate(rule, small)).isInstanceOf(Verdict.Inconclusive.class);
        // Sustained zero fires on the first evaluation that sees it; a configured sustain waits exactly that long.
        assertThat(SustainedTimer.IDLE.observe(RuleEvaluator.evaluate(rule, both), Duration.ZERO, T0).fires()).isTrue();
        PauseRule slow = new PauseRule.RollbackRateAbove(0.05, Duration.ofMinutes(5), 10);
        List<CohortTelemetry> series = new ArrayList<>();
        for (int i = 0; i < 20; i++) series.add(both);
        assertThat(firstFire(slow, series)).isEqualTo(10);
    }

    @Test
    void openSev1NeedsNoDevicesAndFiresOnTheFirstEvaluation() {
        PauseRule rule = new PauseRule.OpenSev1(Duration.ZERO);
        CohortTelemetry none = new CohortTelemetry(1, "canary", 0, Map.of(), List.of(), List.of(), List.of(), List.of());
        CohortTelemetry sev1 = new CohortTelemetry(1, "canary", 0, Map.of(), List.of(), List.of(), List.of(), List.of("INC-7"));
        assertThat(RuleEvaluator.evaluate(rule, none)).isInstanceOf(Verdict.Clear.class);
        assertThat(SustainedTimer.IDLE.observe(RuleEvaluator.evaluate(rule, sev1), rule.sustained(), T0).fires()).isTrue();
    }

    @Test
    void rulesSurviveTheStoreAsTypedRecords() throws Exception {
        RuleSet d = RuleSet.defaults();
        RuleSet back = PolicyJson.read(PolicyJson.write(d), RuleSet.class, "test");
        assertThat(back).isEqualTo(d);
        assertThat(back.rules()).hasSize(6).first().isInstanceOf(PauseRule.AvailabilityBelow.class);
        assertThat(PolicyJson.write(d)).contains("\"rule\":\"availability-below\"").contains("PT10M");
    }

    @Test
    void defaultsAreTheGoNoGoKpis() {
        Map<String, Double> limits = new LinkedHashMap<>();
        for (PauseRule r : RuleSet.defaults().rules()) limits.put(r.name() + " " + r.comparison(), r.limit());
        assertThat(limits).containsExactly(
                Map.entry("availability-below <", 0.995), Map.entry("lag-median-above >", 2000.0), Map.entry("lag-p95-above >", 10_000.0),
                Map.entry("dropped-ratio-above >", 0.001), Map.entry("rollback-rate-above >", 0.05), Map.entry("open-sev1 >", 0.0));
    }
}
