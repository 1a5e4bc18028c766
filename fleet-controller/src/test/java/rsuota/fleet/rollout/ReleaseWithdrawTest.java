package rsuota.fleet.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;
import rsuota.wire.Action;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.WireCodec;

/**
 * A release taken back mid-rollout: the rollout pauses and stays paused, nothing of the release starts
 * again, units that verified it but never activated it are ordered back (they drop it; one still
 * downloading is ordered back as soon as it verifies), a unit running it is left for an explicit rollback.
 */
class ReleaseWithdrawTest {
    static final Principal RM = new Principal("rm", Role.RELEASE_MANAGER);
    @TempDir
    Path dir;
    RunningController rc;

    @BeforeEach
    void fleet() throws Exception {
        rc = new RunningController(new TestPki(), dir);
        rc.releases("2.3.0", "2.4.0", dir.resolve("w"));
    }

    @AfterEach
    void stop() {
        rc.close();
    }

    void report(String device, String state, long rev) {
        assertThat(rc.controller.ingest().accept(List.of(DeviceMessages.state(device, "rsu-a1", "i-5", state, "2.4.0", rev, DeviceMessages.GOOD))))
                .isEqualTo(1);
    }

    MqttDesiredState desired(String device) throws Exception {
        String json = rc.controller.database().read(tx -> tx.desired().find(device)).orElseThrow().payload();
        return WireCodec.decode(json.getBytes(StandardCharsets.UTF_8), MqttDesiredState.class);
    }

    @Test
    void aWithdrawnReleasePausesItsRolloutAndItsUnverifiedUnitsDropIt() throws Exception {
        for (String d : List.of("a", "v", "w")) report(d, null, 0);
        long cohort = rc.controller.cohorts().create(RM, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null, List.of("a", "v", "w"), null))
                .cohort().id();
        var plan = List.of(new Rollouts.NewPhase(cohort, null, null, Duration.ofHours(1), Approval.MANUAL, null));
        long id = rc.controller.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", plan, null, null, null, null)).id();
        rc.controller.rollouts().start(RM, id, null);
        rc.controller.engine().tick(rc.clock.instant());
        report("a", "activated", desired("a").rev());
        report("v", "verified", desired("v").rev());
        report("w", "downloading", desired("w").rev());

        assertThat(rc.controller.rollouts().withdraw(RM, "2.4.0", "CVE in the app image")).containsExactly(id);
        assertThat(rc.controller.rollouts().status(id).state()).isEqualTo("paused");
        assertThat(desired("v").action()).as("verified, never activated: ordered back, drops it").isEqualTo(Action.ROLLBACK);
        assertThat(desired("a").action()).as("running it: left for an explicit rollback").isNotEqualTo(Action.ROLLBACK);
        assertThat(desired("w").action()).as("still downloading: not yet").isNotEqualTo(Action.ROLLBACK);
        assertThat(rc.controller.releases().withdrawal("2.4.0")).hasValueSatisfying(w -> {
            assertThat(w.by()).isEqualTo("rm");
            assertThat(w.reason()).isEqualTo("CVE in the app image");
        });

        // The one still downloading verifies (its order turned download-only): the next tick orders it back too.
        report("w", "verified", desired("w").rev());
        rc.controller.engine().tick(rc.clock.instant());
        assertThat(desired("w").action()).isEqualTo(Action.ROLLBACK);
        assertThat(rc.controller.auditTrail().page(0, 1000)).extracting(e -> e.action())
                .contains("release.withdraw", "rollout.pause", "rollout.withdrawn.drop");

        // Nothing of it starts again, and a second withdrawal is refused; nothing changes either time.
        long audit = rc.count(rsuota.fleet.store.Table.AUDIT);
        assertThatThrownBy(() -> rc.controller.rollouts().resume(RM, id, "go on", List.of()))
                .isInstanceOfSatisfying(FleetException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.RELEASE_BLOCKED);
                    assertThat(e.getMessage()).contains("withdrawn").contains("CVE in the app image");
                });
        assertThatThrownBy(() -> rc.controller.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", null, null, null, null, null)))
                .isInstanceOfSatisfying(FleetException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.RELEASE_BLOCKED));
        assertThatThrownBy(() -> rc.controller.rollouts().withdraw(RM, "2.4.0", "again"))
                .isInstanceOfSatisfying(FleetException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ILLEGAL_TRANSITION));
        assertThat(rc.count(rsuota.fleet.store.Table.AUDIT)).isEqualTo(audit);

        var shown = rc.get("/api/v1/releases/2.4.0", rc.tokens.get(Role.VIEWER));
        assertThat(shown.body()).contains("\"withdrawn\"").contains("CVE in the app image");
    }
}
