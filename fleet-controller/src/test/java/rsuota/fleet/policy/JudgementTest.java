package rsuota.fleet.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The judgement beyond the cohort mean, as data: single devices (device-outliers), slices by
 * variant, region and corridor, and control groups (difference and ratio; too small is
 * inconclusive). Each case is a hand-made cohort and the verdicts the evaluator must reach.
 */
class JudgementTest {
    static final Duration D = Duration.ofMinutes(10);

    /** A device: id, variant, corridor, availability, lag median ms. */
    record Unit(String id, String variant, String corridor, double availability, double lagMedianMs) {
        DeviceKpis kpis() {
            return new DeviceKpis(availability, lagMedianMs, 2000, 0.0001);
        }

        Map<String, String> placement() {
            return Map.of("variant", variant, "region", "north", "corridor", corridor);
        }
    }

    static Unit u(String id, String variant, String corridor, double availability) {
        return new Unit(id, variant, corridor, availability, 300);
    }

    static CohortTelemetry cohort(List<Unit> judged, List<Unit> control) {
        Map<String, DeviceKpis> rep = new LinkedHashMap<>();
        Map<String, Map<String, String>> attrs = new LinkedHashMap<>();
        for (Unit x : judged) {
            rep.put(x.id(), x.kpis());
            attrs.put(x.id(), x.placement());
        }
        List<CohortTelemetry.ControlUnit> pool = new ArrayList<>();
        for (Unit x : control) pool.add(new CohortTelemetry.ControlUnit(x.id(), x.placement(), x.kpis()));
        return new CohortTelemetry(1, "pilot", judged.size(), rep, List.of(), List.of(), List.of(), List.of(), attrs, pool);
    }

    static List<Unit> tenAtFullAndOneAt(double a) {
        List<Unit> out = new ArrayList<>();
        for (int i = 0; i < 10; i++) out.add(u("p" + i, "rsu-a1", "c1", 1.0));
        out.add(u("p10", "rsu-a1", "c1", a));
        return out;
    }

    @Test
    void oneUnitAt90PercentAmongTenAt100IsHiddenByTheMeanAndFoundByDeviceOutliers() {
        CohortTelemetry t = cohort(tenAtFullAndOneAt(0.90), List.of());
        assertThat(RuleEvaluator.evaluate(new PauseRule.AvailabilityBelow(0.99, D, 1), t)).as("mean 0.991 hides it").isInstanceOf(Verdict.Clear.class);
        Verdict v = RuleEvaluator.evaluate(new PauseRule.DeviceOutliers("availability", 0.95, 0, D, 1, List.of()), t);
        assertThat(v).isInstanceOfSatisfying(Verdict.Breach.class, b -> {
            assertThat(b.observed()).isEqualTo(1);
            assertThat(b.offending()).containsExactly("p10");
            assertThat(b.evidence().deviceValues()).containsEntry("p10", 0.90);
        });
        assertThat(RuleEvaluator.evaluate(new PauseRule.DeviceOutliers("availability", 0.95, 1, D, 1, List.of()), t))
                .as("more than one device must cross when maxDevices is 1").isInstanceOf(Verdict.Clear.class);
        assertThat(RuleEvaluator.evaluate(new PauseRule.DeviceOutliers("availability", 0.95, 0, D, 12, List.of()), t))
                .as("11 reporting, 12 required").isInstanceOf(Verdict.Inconclusive.class);
    }

    @Test
    void aVariantSliceFiresWhileTheCohortMeanHoldsAndASmallSliceHoldsNothing() {
        List<Unit> units = new ArrayList<>();
        for (int i = 0; i < 8; i++) units.add(u("a" + i, "rsu-a1", "c1", 1.0));
        units.add(u("b0", "rsu-b2", "c2", 0.97));
        units.add(u("b1", "rsu-b2", "c2", 0.97));
        units.add(u("x0", "rsu-x9", "c2", 1.0));
        PauseRule rule = new PauseRule.AvailabilityBelow(0.99, D, 2, List.of("variant", "corridor"), null);
        List<RuleEvaluator.Judged> js = RuleEvaluator.judge(rule, cohort(units, List.of()));
        assertThat(js.get(0).wholeCohort()).isTrue();
        assertThat(js.get(0).verdict()).as("cohort mean 0.9945").isInstanceOf(Verdict.Clear.class);
        Map<String, String> kinds = new LinkedHashMap<>();
        for (RuleEvaluator.Judged j : js) if (!j.wholeCohort()) kinds.put(j.sliceKey(), j.verdict().kind());
        assertThat(kinds).containsExactly(Map.entry("variant=rsu-a1", "clear"), Map.entry("variant=rsu-b2", "breach"),
                Map.entry("variant=rsu-x9", "inconclusive"), Map.entry("corridor=c1", "clear"), Map.entry("corridor=c2", "breach"));
        RuleEvaluator.Judged b2 = js.stream().filter(j -> j.sliceKey().equals("variant=rsu-b2")).findFirst().orElseThrow();
        assertThat(((Verdict.Breach) b2.verdict()).offending()).containsExactly("b0", "b1");
        assertThat(b2.verdict().evidence().deviceValues()).containsEntry("b0", 0.97);
    }

    /** Rush hour, a release worse than its control, a small control: the same rule, different neighbourhoods. */
    static Stream<Arguments> controlCases() {
        PauseRule.Control diff = new PauseRule.Control("corridor", "difference", 0.01, 2);
        List<Unit> rushCohort = List.of(u("p1", "rsu-a1", "c1", 0.90), u("p2", "rsu-a1", "c1", 0.91));
        List<Unit> rushControl = List.of(u("n1", "rsu-a1", "c1", 0.905), u("n2", "rsu-a1", "c1", 0.91), u("far", "rsu-a1", "c9", 0.999));
        List<Unit> calmCohort = List.of(u("p1", "rsu-a1", "c1", 0.996), u("p2", "rsu-a1", "c1", 0.997));
        List<Unit> calmControl = List.of(u("n1", "rsu-a1", "c1", 0.9999), u("n2", "rsu-a1", "c1", 0.9999));
        return Stream.of(
                Arguments.of("rush hour degrades every unit: no pause although 0.905 < 0.995", rushCohort, rushControl, diff, "clear"),
                Arguments.of("worse than control by 0.0034 > 0.002 although above 0.995", calmCohort, calmControl,
                        new PauseRule.Control("corridor", "difference", 0.002, 2), "breach"),
                Arguments.of("a control of one unit, two required: inconclusive", calmCohort, calmControl.subList(0, 1), diff, "inconclusive"),
                Arguments.of("control units of another corridor do not count", calmCohort, List.of(u("far", "rsu-a1", "c9", 0.9999),
                        u("far2", "rsu-a1", "c9", 0.9999)), diff, "inconclusive"),
                Arguments.of("ratio: 0.9999/0.996 = 1.0039 > 1.002", calmCohort, calmControl, new PauseRule.Control("corridor", "ratio", 1.002, 2), "breach"),
                Arguments.of("ratio within limit", calmCohort, calmControl, new PauseRule.Control("corridor", "ratio", 1.01, 2), "clear"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("controlCases")
    void aControlGroupJudgesTheCohortAgainstItsNeighbours(String why, List<Unit> judged, List<Unit> control, PauseRule.Control c, String kind) {
        Verdict v = RuleEvaluator.evaluate(new PauseRule.AvailabilityBelow(0.995, D, 1, List.of(), c), cohort(judged, control));
        assertThat(v.kind()).isEqualTo(kind);
        Verdict.ControlComparison cmp = v.evidence().control();
        assertThat(cmp).as("the explanation carries both series").isNotNull();
        assertThat(cmp.controlRequired()).isEqualTo(2);
        assertThat(cmp.judgedSize()).isEqualTo(2);
        if (!kind.equals("inconclusive")) assertThat(cmp.controlDevices()).allSatisfy(d -> assertThat(d).startsWith("n"));
    }

    @Test
    void aLagRuleComparesItsRatioWithTheControl() {
        List<Unit> judged = List.of(new Unit("p1", "rsu-a1", "c1", 1, 1500), new Unit("p2", "rsu-a1", "c1", 1, 1500));
        List<Unit> control = List.of(new Unit("n1", "rsu-a1", "c1", 1, 1000), new Unit("n2", "rsu-a1", "c1", 1, 1000));
        PauseRule rule = new PauseRule.LagMedianAbove(Duration.ofSeconds(2), D, 1, List.of(), new PauseRule.Control("corridor", "ratio", 1.2, 2));
        assertThat(RuleEvaluator.evaluate(rule, cohort(judged, control))).isInstanceOfSatisfying(Verdict.Breach.class,
                b -> assertThat(b.observed()).isEqualTo(1.5));
    }

    @Test
    void aFindingNamesTheSliceTheDevicesAndTheControl() {
        Finding f = new Finding("availability-below", 1, 3L, "pilot", 0.97, "<", 0.99, "ratio", Duration.ofMinutes(5), D, null, null, 2, 2,
                List.of("b0"), List.of(), List.of(), Map.of("variant", "rsu-b2"), Map.of("b0", 0.97), null);
        assertThat(f.explain()).isEqualTo("rule availability-below on cohort pilot, variant rsu-b2: observed 0.9700 ratio < threshold 0.9900 for 10m;"
                + " devices b0 0.9700");
        Finding c = new Finding("availability-below", 1, 3L, "pilot", 0.0085, ">", 0.005, "ratio worse than control", Duration.ofMinutes(5), D,
                null, null, 2, 1, List.of("p1"), List.of(), List.of(), Map.of(), Map.of("p1", 0.996),
                new Verdict.ControlComparison("corridor", "difference", 0.005, 0.9965, 2, 0.9999, 2, 2, List.of("n1", "n2")));
        assertThat(c.explain()).contains("0.9965 over 2 device(s) against 0.9999 over 2 control unit(s) of the same corridor (at least 2 required)")
                .contains("worse by 0.0085 > limit 0.0050");
    }

    @Test
    void badRulesAreRefusedWhenMade() {
        assertThatThrownBy(() -> new PauseRule.DeviceOutliers("temperature", 0.9, 0, D, 1, List.of())).hasMessageContaining("kpi must be one of");
        assertThatThrownBy(() -> new PauseRule.DeviceOutliers("availability", Double.NaN, 0, D, 1, List.of())).hasMessageContaining("within 0..1");
        assertThatThrownBy(() -> new PauseRule.AvailabilityBelow(-0.1, D, 1)).hasMessageContaining("within 0..1");
        assertThatThrownBy(() -> new PauseRule.AvailabilityBelow(0.9, D, 1, List.of("site"), null)).hasMessageContaining("'site' is not one of");
        assertThatThrownBy(() -> new PauseRule.Control("site", "difference", 0.01, 1)).hasMessageContaining("control.by");
        assertThatThrownBy(() -> new PauseRule.Control("corridor", "ratio", 0.5, 1)).hasMessageContaining(">= 1");
        assertThatThrownBy(() -> new PauseRule.Control("corridor", "difference", Double.NaN, 1)).hasMessageContaining("control.limit");
    }
}
