package rsuota.fleet.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import rsuota.fleet.app.Controller;
import rsuota.fleet.audit.AuditVerifier;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.store.DesiredStateRepository;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RecordingTransport;
import rsuota.fleet.testing.RunningController;
import rsuota.fleet.testing.StoreEngine;
import rsuota.fixtures.pki.TestPki;
import rsuota.wire.Action;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.WireCodec;

/**
 * A wave's orders are written in batches (one read and one write per 500 units, not four statements per unit), on both
 * stores: 1,234 units across three IN lists, 600 of them with orders from before (their rev goes on from the stored
 * one), one held by a technician (no order). Every unit gets exactly its next rev, the rollout's row says the same rev,
 * and pause (download-only), resume (activation again) and rollback move every unit by one rev each. A batch whose rev
 * is not above the stored one is refused as a whole.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(StoreEngine.class)
class WaveDispatchTest {
    static final Principal RM = new Principal("rm", Role.RELEASE_MANAGER);
    static final Principal OP = new Principal("op", Role.OPERATOR);
    static final int UNITS = 1234;
    static final int ORDERED_BEFORE = 600;

    @Parameter
    StoreEngine engine;
    @TempDir
    Path dir;
    RunningController rc;
    Controller c;
    TestPki pki;
    final List<String> units = new ArrayList<>();

    @BeforeEach
    void fleet() throws Exception {
        pki = new TestPki();
        rc = new RunningController(pki, dir, cfg -> cfg, engine);
        c = rc.controller;
        c.transport(new RecordingTransport());
        rc.releases("2.3.0", "2.4.0", dir.resolve("w"));
        List<rsuota.fleet.link.TelemetryIngest.Message> states = new ArrayList<>();
        for (int i = 0; i < UNITS; i++) {
            String id = String.format("u%04d", i);
            units.add(id);
            states.add(DeviceMessages.running(id, "i-5", "2.3.0"));
        }
        assertThat(c.ingest().accept(states)).isEqualTo(UNITS);
        // orders from an earlier (ended) campaign: revs 1..3 stored for the first 600 units
        c.database().write(tx -> {
            for (long rev = 1; rev <= 3; rev++) {
                List<DesiredStateRepository.NewDesired> rows = new ArrayList<>();
                for (String id : units.subList(0, ORDERED_BEFORE)) rows.add(new DesiredStateRepository.NewDesired(id, rev, "{}", null));
                tx.desired().writeAll(rows, rc.clock.instant());
            }
            return null;
        });
        assertThat(c.ingest().accept(List.of(DeviceMessages.event("u0007", 1, "local_action", "idle", null, null,
                Map.of("action", "lock", "actor", "technician:ana", "reason", "cabinet open"))))).isEqualTo(1);
    }

    @AfterEach
    void stop() {
        rc.close();
    }

    Map<String, MqttDesiredState> orders() throws Exception {
        Map<String, String> payloads = c.database().read(tx -> {
            Map<String, String> out = new TreeMap<>();
            for (String id : units) tx.desired().find(id).filter(d -> !d.payload().equals("{}")).ifPresent(d -> out.put(id, d.payload()));
            return out;
        });
        Map<String, MqttDesiredState> out = new TreeMap<>();
        for (var e : payloads.entrySet()) out.put(e.getKey(), WireCodec.decode(e.getValue().getBytes(StandardCharsets.UTF_8), MqttDesiredState.class));
        return out;
    }

    Map<String, DeviceProgress> rows(long rollout) throws FleetException {
        return c.database().read(tx -> new RolloutRepository(tx).devices(rollout)).stream()
                .collect(Collectors.toMap(DeviceProgress::deviceId, d -> d, (a, b) -> a, TreeMap::new));
    }

    long revBefore(String id) {
        return units.indexOf(id) < ORDERED_BEFORE ? 3 : 0;
    }

    @Test
    void everyUnitOfAWaveGetsItsNextRevAndPauseResumeRollbackMoveEachByOne() throws Exception {
        long cohort = c.cohorts().create(RM, new Cohorts.NewCohort("2.4.0", "wave", CohortKind.WAVE, null, null, units, null)).cohort().id();
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(new Rollouts.NewPhase(cohort, null, null,
                Duration.ofHours(1), Approval.MANUAL, null)), null, null, null, "wave")).id();
        c.rollouts().start(RM, id, "go");
        RolloutEngine.TickReport t = c.engine().tick(rc.clock.instant());
        assertThat(t.dispatched()).as("all but the unit a technician holds, in one tick").isEqualTo(UNITS - 1);

        Map<String, MqttDesiredState> sent = orders();
        Map<String, DeviceProgress> rows = rows(id);
        assertThat(sent).doesNotContainKey("u0007");
        assertThat(rows.get("u0007").rev()).isNull();
        assertThat(rows.get("u0007").local().state()).isEqualTo(DeviceProgress.LOCKED_BY_TECHNICIAN);
        assertThat(sent).hasSize(UNITS - 1);
        for (var e : sent.entrySet()) {
            long expected = revBefore(e.getKey()) + 1;
            assertThat(e.getValue().rev()).as(e.getKey()).isEqualTo(expected);
            assertThat(e.getValue().action()).isEqualTo(Action.ACTIVATE);
            assertThat(e.getValue().release()).isEqualTo("2.4.0");
            assertThat(rows.get(e.getKey()).rev()).as(e.getKey()).isEqualTo(expected);
            assertThat(rows.get(e.getKey()).dispatchedAt()).isEqualTo(rc.clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
            assertThat(rows.get(e.getKey()).fromRelease()).isEqualTo("2.3.0");
        }
        assertThat(c.engine().tick(rc.clock.instant()).dispatched()).as("nothing twice").isZero();

        c.rollouts().pause(OP, id, "look first");
        sent = orders();
        rows = rows(id);
        for (var e : sent.entrySet()) {
            assertThat(e.getValue().rev()).as(e.getKey()).isEqualTo(revBefore(e.getKey()) + 2);
            assertThat(e.getValue().action()).isEqualTo(Action.DOWNLOAD);
            assertThat(rows.get(e.getKey()).held()).isTrue();
        }

        c.rollouts().resume(OP, id, "looked", List.of(1L)); // the operator acknowledges their own pause (event 1)
        sent = orders();
        rows = rows(id);
        for (var e : sent.entrySet()) {
            assertThat(e.getValue().rev()).as(e.getKey()).isEqualTo(revBefore(e.getKey()) + 3);
            assertThat(e.getValue().action()).isEqualTo(Action.ACTIVATE);
            assertThat(rows.get(e.getKey()).held()).isFalse();
            assertThat(rows.get(e.getKey()).rev()).isEqualTo(revBefore(e.getKey()) + 3);
        }

        c.rollouts().rollback(OP, id, new Rollouts.RollbackRequest(Rollouts.RollbackScope.ROLLOUT, null, null, null, "wave regression"));
        sent = orders();
        rows = rows(id);
        assertThat(sent).hasSize(UNITS - 1);
        for (var e : sent.entrySet()) {
            assertThat(e.getValue().rev()).as(e.getKey()).isEqualTo(revBefore(e.getKey()) + 4);
            assertThat(e.getValue().action()).isEqualTo(Action.ROLLBACK);
            assertThat(e.getValue().release()).isEqualTo("2.3.0");
            assertThat(rows.get(e.getKey()).rollbackRev()).isEqualTo(revBefore(e.getKey()) + 4);
            assertThat(rows.get(e.getKey()).rollbackDeadline()).isNotNull();
        }
        assertThat(c.database().read(AuditVerifier::verify).ok()).isTrue();
    }

    long started(String release, String cohortName, List<String> members) throws Exception {
        long cohort = c.cohorts().create(RM, new Cohorts.NewCohort(release, cohortName, CohortKind.WAVE, null, null, members, null)).cohort().id();
        return c.rollouts().create(RM, new Rollouts.NewRollout(release, List.of(new Rollouts.NewPhase(cohort, null, null,
                Duration.ofHours(1), Approval.MANUAL, null)), null, null, null, "wave")).id();
    }

    @Test
    void aRolloutOverUnitsAnotherActiveRolloutHoldsIsRefusedAtStartNamingTheFirstAndChangesNothing() throws Exception {
        long first = started("2.4.0", "wave", units);
        c.rollouts().start(RM, first, "go");
        c.releases().create(new Principal("setup", Role.ADMIN), new rsuota.fleet.release.ReleaseCatalog.NewRelease(
                rsuota.fleet.testing.Bundles.publish(rsuota.fleet.testing.Bundles.build(pki, dir.resolve("w"), "2.5.0", "rsu-a1"), rc.artifacts()),
                null, "2.3.0", null, null));
        long second = started("2.5.0", "wave", List.of("u1200", "u0150", "u0100"));
        FleetException e = catchThrowableOfType(FleetException.class, () -> c.rollouts().start(RM, second, "go too"));
        assertThat(e.code()).isEqualTo(rsuota.fleet.domain.ErrorCode.COHORT_CONFLICT);
        assertThat(e.details()).containsEntry("device", "u0100").containsEntry("rollout", first);
        assertThat(e).hasMessageContaining("device u0100 is in active rollout " + first);
        assertThat(c.rollouts().status(second).state()).isEqualTo("draft");
        assertThat(rows(second)).isEmpty();
    }

    @Test
    void aBatchWithARevNotAboveTheStoredOneIsRefusedWhole() throws Exception {
        List<DesiredStateRepository.NewDesired> rows = List.of(
                new DesiredStateRepository.NewDesired(units.get(ORDERED_BEFORE), 1, "{\"fresh\":1}", null), // new unit: fine alone
                new DesiredStateRepository.NewDesired(units.get(0), 3, "{\"stale\":1}", null)); // rev 3 is stored already
        FleetException e = catchThrowableOfType(FleetException.class, () -> c.database().write(tx -> {
            tx.desired().writeAll(rows, rc.clock.instant());
            return null;
        }));
        assertThat(e).hasMessageContaining("desired rev 3 of u0000 is not above the stored one");
        assertThat(c.database().<java.util.Optional<DesiredStateRepository.Desired>>read(tx -> tx.desired().find(units.get(ORDERED_BEFORE)))).as("nothing of the batch").isEmpty();
        assertThat(c.database().<java.util.Optional<DesiredStateRepository.Desired>>read(tx -> tx.desired().find(units.get(0))).orElseThrow().payload()).isEqualTo("{}");
    }
}
