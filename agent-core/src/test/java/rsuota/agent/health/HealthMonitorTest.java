package rsuota.agent.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Time is only what the test passes in: observations at t0 + n seconds. */
class HealthMonitorTest {

    private static final Instant T0 = Instant.parse("2026-12-01T01:00:00Z");

    private static Instant at(long seconds) {
        return T0.plusSeconds(seconds);
    }

    // observe() only matches results to probes by name; these probes are never run here.
    private static final HealthConfig.ProbeSpec APP =
            new HealthConfig.ProbeSpec(new HealthProbe.CommandExitsZero(List.of("app"), Duration.ofSeconds(1)), 2);
    private static final HealthConfig.ProbeSpec CTRL = new HealthConfig.ProbeSpec(new HealthProbe.ControllerReachable(() -> {
        throw new AssertionError("not run in this test");
    }), 0);

    private static List<ProbeResult> results(boolean app, boolean ctrl) {
        return List.of(new ProbeResult("cmd:app", app, app ? "exit 0" : "exited 1: down"),
                new ProbeResult("controller", ctrl, ctrl ? "controller reachable" : "controller not reachable"));
    }

    private static HealthMonitor monitor() {
        return new HealthMonitor(List.of(APP, CTRL), Duration.ofMinutes(10), Duration.ofMinutes(2), T0);
    }

    @Test
    void allPassingForTheRequiredTimeIsHealthy() {
        HealthMonitor m = monitor();
        assertThat(m.observe(at(0), results(true, true))).isEqualTo(new Verdict.Passing(Duration.ZERO, Duration.ofMinutes(2), List.of()));
        assertThat(m.observe(at(60), results(true, true))).isEqualTo(new Verdict.Passing(Duration.ofMinutes(1), Duration.ofMinutes(2), List.of()));
        assertThat(m.observe(at(120), results(true, true))).isEqualTo(new Verdict.Healthy(Duration.ofMinutes(2)));
        assertThat(m.observe(at(130), results(false, false))).as("a decision is final").isEqualTo(new Verdict.Healthy(Duration.ofMinutes(2)));
    }

    @Test
    void failuresWithinToleranceKeepWatchingButRestartTheContinuousCount() {
        HealthMonitor m = monitor();
        m.observe(at(0), results(true, true));
        assertThat(m.observe(at(60), results(false, true)))
                .isEqualTo(new Verdict.Passing(Duration.ZERO, Duration.ofMinutes(2), List.of("cmd:app: exited 1: down (1/2)")));
        assertThat(m.observe(at(70), results(false, true))).isInstanceOf(Verdict.Passing.class);
        m.observe(at(80), results(true, true));
        assertThat(m.observe(at(190), results(true, true))).isInstanceOf(Verdict.Passing.class);
        assertThat(m.observe(at(200), results(true, true))).isEqualTo(new Verdict.Healthy(Duration.ofMinutes(2)));
    }

    @Test
    void aFailurePastItsToleranceIsUnhealthy() {
        HealthMonitor m = monitor();
        m.observe(at(0), results(false, true));
        m.observe(at(10), results(false, true));
        assertThat(m.observe(at(20), results(false, true)))
                .isEqualTo(new Verdict.Unhealthy("probe cmd:app failed 3 times in a row (tolerance 2): exited 1: down"));
        assertThat(m.observe(at(30), results(true, true))).isInstanceOf(Verdict.Unhealthy.class);
    }

    @Test
    void toleranceZeroFailsAtTheFirstFailure() {
        assertThat(monitor().observe(at(0), results(true, false)))
                .isEqualTo(new Verdict.Unhealthy("probe controller failed 1 time in a row (tolerance 0): controller not reachable"));
    }

    @Test
    void theWindowEndingBeforeTheRequiredPassingTimeIsUnhealthy() {
        HealthMonitor m = monitor();
        // Flapping within tolerance for most of the window, then passing too late.
        for (int s = 0; s < 540; s += 30) {
            assertThat(m.observe(at(s), results(s % 60 == 0, true))).isInstanceOf(Verdict.Passing.class);
        }
        assertThat(m.observe(at(540), results(true, true))).isInstanceOf(Verdict.Passing.class);
        assertThat(m.observe(at(600), results(true, true))).isEqualTo(new Verdict.Unhealthy(
                "commit window of 10m ended with 1m of continuous passing, 2m required"));
        assertThat(m.windowEnd()).isEqualTo(at(600));
    }

    @Test
    void theWindowEndingWhileAProbeFailsSaysWhichOne() {
        HealthMonitor m = monitor();
        m.observe(at(0), results(true, true));
        assertThat(m.observe(at(601), results(false, true))).isEqualTo(new Verdict.Unhealthy(
                "commit window of 10m ended with 0s of continuous passing, 2m required; failing: cmd:app: exited 1: down (1/2)"));
    }

    @Test
    void aMissingResultCountsAsAFailureAndUnknownResultsAreIgnored() {
        HealthMonitor m = monitor();
        Verdict v = m.observe(at(0), List.of(new ProbeResult("controller", true, "ok"), new ProbeResult("other", false, "x")));
        assertThat(v).isEqualTo(new Verdict.Passing(Duration.ZERO, Duration.ofMinutes(2), List.of("cmd:app: no result in this round (1/2)")));
    }

    @Test
    void timeGoingBackwardsCountsAsNoTimePassing() {
        HealthMonitor m = monitor();
        m.observe(at(100), results(true, true));
        assertThat(m.observe(at(0), results(true, true))).isEqualTo(new Verdict.Passing(Duration.ZERO, Duration.ofMinutes(2), List.of()));
        assertThat(m.observe(at(220), results(true, true))).isEqualTo(new Verdict.Healthy(Duration.ofMinutes(2)));
    }

    @Test
    void requiredPassingLongerThanTheWindowIsRefused() {
        assertThatThrownBy(() -> new HealthMonitor(List.of(APP), Duration.ofMinutes(1), Duration.ofMinutes(2), T0))
                .hasMessageContaining("required passing time 2m is longer than the commit window 1m");
    }

    @Test
    void realProbesFromCheckOnceDriveTheVerdict() throws Exception {
        try (LocalServer s = new LocalServer()) {
            HealthMonitor m = new HealthMonitor(List.of(
                    new HealthConfig.ProbeSpec(new HealthProbe.CommandExitsZero(List.of("true"), Duration.ofSeconds(10)), 0),
                    new HealthConfig.ProbeSpec(new HealthProbe.HttpGet(s.uri("/health"), Duration.ofSeconds(5)), 1)),
                    Duration.ofMinutes(10), Duration.ofSeconds(30), T0);
            List<ProbeResult> r = m.checkOnce();
            assertThat(r).extracting(ProbeResult::pass).containsExactly(true, true);
            assertThat(m.observe(at(0), r)).isInstanceOf(Verdict.Passing.class);
            s.status = 500;
            assertThat(m.observe(at(10), m.checkOnce())).isInstanceOf(Verdict.Passing.class);
            assertThat(m.observe(at(20), m.checkOnce())).isEqualTo(new Verdict.Unhealthy(
                    "probe http:" + s.uri("/health") + " failed 2 times in a row (tolerance 1): HTTP 500"));
        }
    }
}
