package rsuota.fleet.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.app.Controller;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.policy.PauseRule;
import rsuota.fleet.policy.RuleSet;
import rsuota.fleet.store.KpiSampleRepository;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RecordingTransport;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;
import rsuota.wire.MqttState;

/**
 * Windows as long as the observation: KPI samples are stored with each report, downsampled with
 * age and expired after the retention; a controller restarted mid-window rebuilds its sliding
 * windows from them and judges as if it had not stopped; and a phase passes only if its KPIs held
 * over the whole observation window, not just the last minutes.
 */
class ObservationWindowTest {
    static final Principal RM = new Principal("rm", Role.RELEASE_MANAGER);

    @TempDir Path dir;
    RunningController rc;
    Controller c;

    @BeforeEach
    void start() throws Exception {
        TestPki pki = new TestPki();
        rc = new RunningController(pki, dir);
        c = rc.controller;
        c.transport(new RecordingTransport());
        rc.releases("2.3.0", "2.4.0", dir.resolve("w"));
    }

    @AfterEach
    void stop() {
        if (c != rc.controller) c.close();
        rc.close();
    }

    void report(String device, MqttState.Kpis k) {
        assertThat(c.ingest().accept(List.of(DeviceMessages.state(device, "rsu-a1", "i-5", null, null, 0, k)))).isEqualTo(1);
    }

    static MqttState.Kpis availability(double a) {
        return new MqttState.Kpis(a, 300, 2000, 0.0001);
    }

    long rollout(Duration observation, RuleSet rules, String... devices) throws Exception {
        for (String d : devices) report(d, DeviceMessages.GOOD);
        long cohort = c.cohorts().create(RM, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null, List.of(devices), null)).cohort().id();
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(new Rollouts.NewPhase(cohort, null, null, observation, Approval.AUTO,
                new ExitCriteria(1.0, 0, 0))), null, rules, null, null)).id();
        c.rollouts().start(RM, id, null);
        c.engine().tick(rc.clock.instant());
        return id;
    }

    void activated(String device) throws Exception {
        long rev = c.database().read(tx -> tx.desired().find(device)).orElseThrow().rev();
        c.ingest().accept(List.of(DeviceMessages.state(device, "rsu-a1", "i-5", "activated", "2.4.0", rev, DeviceMessages.GOOD)));
    }

    RolloutStatus.Kpi availabilityKpi(long id) throws Exception {
        return c.rollouts().status(id).phases().get(0).kpis().stream().filter(k -> k.rule().equals("availability-below")).findFirst().orElseThrow();
    }

    @Test
    void aControllerRestartedMidWindowJudgesAsIfItHadNotStopped() throws Exception {
        RuleSet rules = new RuleSet(1, Duration.ofMinutes(5), List.of(new PauseRule.AvailabilityBelow(0.995, Duration.ofMinutes(4), 1)));
        long id = rollout(Duration.ofDays(2), rules, "p1", "p2");
        Instant breach = rc.clock.instant();
        // Values that move: the mean over the window differs from the last report, so a window refilled from the last snapshot alone would differ.
        double[] a = {0.90, 0.95, 0.97, 0.93, 0.96};
        for (int i = 0; i < a.length; i++) {
            rc.clock.set(breach.plusSeconds(30L * i));
            report("p1", availability(a[i]));
            report("p2", availability(a[i] + 0.01));
            assertThat(c.engine().tick(rc.clock.instant()).pauses()).isEmpty();
        }
        RolloutStatus.Kpi before = availabilityKpi(id);

        c.close();
        c = Controller.open(new Controller.Config(rc.dataDir, null, "127.0.0.1", 0), rc.clock).serve();
        c.transport(new RecordingTransport());
        RolloutStatus.Kpi after = availabilityKpi(id);
        assertThat(after.observed()).as("the window rebuilt from the stored reports").isEqualTo(before.observed());
        assertThat(after.sample()).isEqualTo(before.sample());
        assertThat(after.breachSince()).isEqualTo(before.breachSince());

        // The rule fires when it would have without the restart: 4 minutes after the first breached evaluation.
        rc.clock.set(breach.plus(Duration.ofMinutes(4)).minusSeconds(1));
        report("p1", availability(0.9));
        assertThat(c.engine().tick(rc.clock.instant()).pauses()).isEmpty();
        rc.clock.set(breach.plus(Duration.ofMinutes(4)));
        assertThat(c.engine().tick(rc.clock.instant()).pauses()).singleElement()
                .satisfies(p -> assertThat(p.findings().get(0).breachSince()).isEqualTo(before.breachSince()));
    }

    @Test
    void aDipThatRecoveredEarlyInTheWindowStillKeepsTheGateShut() throws Exception {
        // The sliding rule needs 10 h of breach to pause: it never fires; the whole-window criterion judges the 2 h.
        RuleSet rules = new RuleSet(1, Duration.ofMinutes(5), List.of(new PauseRule.AvailabilityBelow(0.995, Duration.ofHours(10), 1)));
        long id = rollout(Duration.ofHours(2), rules, "p1");
        Instant start = rc.clock.instant();
        activated("p1");
        for (int m = 0; m <= 120; m += 2) {
            rc.clock.set(start.plus(Duration.ofMinutes(m)));
            report("p1", availability(m < 40 ? 0.90 : 0.9995));
            c.engine().tick(rc.clock.instant());
        }
        RolloutStatus st = c.rollouts().status(id);
        assertThat(st.state()).as("held, not passed").isEqualTo("running");
        assertThat(availabilityKpi(id).verdict()).as("the last 5 minutes are fine").isEqualTo("clear");
        assertThat(st.phases().get(0).unmet()).anySatisfy(u -> assertThat(u).contains("availability-below over the whole observation window")
                .contains("observed 0.96").contains("< threshold 0.995"));
        FleetException human = catchThrowableOfType(FleetException.class, () -> c.rollouts().advance(RM, id, "looks fine now"));
        assertThat(human.code()).as("a failed exit criterion is not missing evidence").isEqualTo(ErrorCode.GATE_NOT_MET);
    }

    @Test
    void samplesAreDownsampledWithAgeAndExpiredAfterTheRetention() throws Exception {
        Instant t0 = Instant.parse("2026-11-01T00:00:00Z");
        // 3 days of reports every 20 s from one device, availability cycling so each minute's mean is known.
        for (long s = 0; s < 3 * 86_400; s += 20) {
            long sec = s;
            double a = 0.99 + (sec / 20 % 3) * 0.001;
            c.database().write(tx -> {
                tx.kpiSamples().record("d1", t0.plusSeconds(sec), a, 100, 200, 0);
                return null;
            });
        }
        Instant now = t0.plus(Duration.ofDays(3));
        KpiSampleRepository.Compaction first = c.database().write(tx -> tx.kpiSamples().compact(now, Duration.ofDays(2)));
        assertThat(first.expired()).isPositive();
        KpiSampleRepository.Compaction again = c.database().write(tx -> tx.kpiSamples().compact(now, Duration.ofDays(2)));
        assertThat(again).as("idempotent").isEqualTo(new KpiSampleRepository.Compaction(0, 0, 0));
        Map<Long, Long> byResolution = c.database().read(tx -> {
            Map<Long, Long> m = new java.util.TreeMap<>();
            try (var ps = tx.connection().prepareStatement("SELECT resolution, COUNT(*), MIN(at) FROM kpi_samples GROUP BY resolution");
                 var rs = ps.executeQuery()) {
                while (rs.next()) m.put(rs.getLong(1), rs.getLong(2));
            }
            return m;
        });
        assertThat(byResolution.get(0L)).as("raw: the last hour").isBetween(179L, 180L);
        assertThat(byResolution.get(60_000L)).as("1-minute means: the last day but its first hour").isBetween(1379L, 1381L);
        assertThat(byResolution.get(600_000L)).as("10-minute means: back to the retention").isBetween(143L, 145L);
        // The weighted mean over any stretch is the mean of the raw reports: the cycle 0.990/0.991/0.992 averages 0.991.
        long minTime = c.database().read(tx -> {
            try (var ps = tx.connection().prepareStatement("SELECT MIN(at), SUM(n) FROM kpi_samples"); var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
        assertThat(Instant.ofEpochMilli(minTime)).as("nothing older than the retention").isAfterOrEqualTo(now.minus(Duration.ofDays(2)));
        double mean = c.database().read(tx -> {
            try (var ps = tx.connection().prepareStatement("SELECT SUM(availability * n) / SUM(n) FROM kpi_samples"); var rs = ps.executeQuery()) {
                rs.next();
                return rs.getDouble(1);
            }
        });
        assertThat(mean).isCloseTo(0.991, org.assertj.core.data.Offset.offset(1e-9));
        long bytes = Files.size(rc.dataDir.store());
        assertThat(bytes).isPositive();
    }

    @Test
    void aRetentionOutsideItsRangeIsRefused() {
        assertThat(catchThrowableOfType(FleetException.class, () -> c.kpiRetention(Duration.ofHours(3))).getMessage()).contains("between 1d and 400d");
        assertThat(catchThrowableOfType(FleetException.class, () -> c.kpiRetention(Duration.ofDays(500))).code()).isEqualTo(ErrorCode.INVALID_REQUEST);
    }
}
