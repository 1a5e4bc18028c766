package rsuota.fleet.cohort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.domain.CohortFilter;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.CohortResolution;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.Exclusion;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.release.ReleaseCatalog;
import rsuota.fleet.store.Table;
import rsuota.fleet.testing.Bundles;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

class CohortsTest {
    static TestPki pki;
    @TempDir
    Path dir;
    RunningController rc;
    Cohorts cohorts;
    final Principal rm = new Principal("rm", Role.RELEASE_MANAGER);

    @BeforeAll
    static void pki() {
        pki = new TestPki();
    }

    @BeforeEach
    void fleet() throws Exception {
        rc = new RunningController(pki, dir);
        cohorts = rc.controller.cohorts();
        for (String v : List.of("2.4.0", "2.5.0")) {
            String name = Bundles.publish(Bundles.build(pki, dir.resolve("work"), v, "rsu-a1", "rsu-a2"), rc.artifacts());
            rc.controller.releases().create(rm, new ReleaseCatalog.NewRelease(name, null, null, null, null));
        }
        var devices = rc.controller.devices();
        devices.registerFromState("a1-north-1", "rsu-a1", "north", "i-90", "s1", List.of("pilot-ok"), pki.now);
        devices.registerFromState("a1-north-2", "rsu-a1", "north", "i-90", "s2", List.of(), pki.now);
        devices.registerFromState("a2-north-3", "rsu-a2", "north", "i-94", "s3", List.of("pilot-ok"), pki.now);
        devices.registerFromState("b1-north-4", "rsu-b1", "north", "i-90", "s4", List.of("pilot-ok"), pki.now);
        devices.registerFromState("a1-south-5", "rsu-a1", "south", "i-35", "s5", List.of("pilot-ok"), pki.now);
    }

    @AfterEach
    void stop() {
        rc.close();
    }

    @Test
    void explicitMembersJoin() throws Exception {
        var created = cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, 1, List.of("a1-north-1"), "first unit"));
        assertThat(created.members()).containsExactly("a1-north-1");
        assertThat(created.cohort().memberCount()).isEqualTo(1);
        assertThat(cohorts.get(created.cohort().id()).members()).extracting(m -> m.deviceId()).containsExactly("a1-north-1");
    }

    @Test
    void aDeviceIsInAtMostOneCohortPerReleaseAndTheConflictNamesTheCohort() throws Exception {
        var canary = cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, List.of("a1-north-1"), null)).cohort();
        var pilot = cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null, List.of("a1-north-2"), null)).cohort();
        var before = rc.snapshot();

        FleetException e = catchThrowableOfType(FleetException.class,
                () -> cohorts.addMembers(rm, pilot.id(), List.of("a2-north-3", "a1-north-1"), "widen the pilot"));
        assertThat(e.code()).isEqualTo(ErrorCode.COHORT_CONFLICT);
        assertThat(e.getMessage()).contains("a1-north-1").contains("'canary'");
        assertThat(e.details()).containsEntry("cohortId", canary.id()).containsEntry("cohortName", "canary").containsEntry("device", "a1-north-1");
        assertThat(rc.snapshot()).as("all or nothing: a2-north-3 did not join either, and no audit entry").isEqualTo(before);

        // Another release is another matter: the same device may be in its canary.
        var other = cohorts.create(rm, new Cohorts.NewCohort("2.5.0", "canary", CohortKind.CANARY, null, null, List.of("a1-north-1"), null));
        assertThat(other.members()).containsExactly("a1-north-1");
    }

    @Test
    void theStoreItselfEnforcesOneCohortPerReleasePerDevice() throws Exception {
        var canary = cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, List.of("a1-north-1"), null)).cohort();
        var pilot = cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null, List.of(), null)).cohort();
        // Straight into the table, past the service's own check, on whichever engine the controller runs.
        assertThatThrownBy(() -> rc.controller.database().write(tx -> {
            try (PreparedStatement ps = tx.connection().prepareStatement(
                    "INSERT INTO cohort_members (cohort_id, device_id, release, added_at) VALUES (?, ?, ?, 0)")) {
                ps.setLong(1, pilot.id());
                ps.setString(2, "a1-north-1");
                ps.setString(3, "2.4.0");
                return ps.executeUpdate();
            }
        })).isInstanceOf(FleetException.class)
                .satisfies(e -> assertThat(rsuota.fleet.store.Sql.isUniqueViolation((SQLException) e.getCause())).as(e.getMessage()).isTrue());
        assertThat(cohorts.get(canary.id()).members()).hasSize(1);
        assertThat(cohorts.get(pilot.id()).members()).isEmpty();
    }

    @Test
    void anIncompatibleVariantIsRefusedWithTheReason() throws Exception {
        var before = rc.snapshot();
        FleetException e = catchThrowableOfType(FleetException.class,
                () -> cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, List.of("b1-north-4"), null)));
        assertThat(e.code()).isEqualTo(ErrorCode.INCOMPATIBLE_VARIANT);
        assertThat(e.getMessage()).contains("b1-north-4 is variant rsu-b1").contains("[rsu-a1, rsu-a2]");
        assertThat(e.details()).containsEntry("variant", "rsu-b1").containsEntry("release", "2.4.0");
        assertThat(rc.snapshot()).as("no cohort was created").isEqualTo(before);

        var empty = cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null, null, null)).cohort();
        FleetException add = catchThrowableOfType(FleetException.class, () -> cohorts.addMembers(rm, empty.id(), List.of("b1-north-4"), null));
        assertThat(add.code()).isEqualTo(ErrorCode.INCOMPATIBLE_VARIANT);
    }

    @Test
    void aFilterResolvesToMembersAndReportsBlockedDevicesSeparately() throws Exception {
        cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, List.of("a1-north-1"), null));
        CohortFilter north = new CohortFilter("north", null, null, List.of());
        CohortResolution preview = cohorts.preview("2.4.0", north, null);
        assertThat(preview.members()).containsExactly("a1-north-2", "a2-north-3");
        assertThat(preview.blocked()).extracting(Exclusion::deviceId).containsExactly("b1-north-4");
        assertThat(preview.excluded()).contains(new Exclusion.InOtherCohort("a1-north-1", 1, "canary"));

        var wave = cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "wave-1", CohortKind.WAVE, north, 1, null, "north first"));
        assertThat(wave.members()).containsExactly("a1-north-2");
        assertThat(wave.excluded()).extracting(Exclusion::code)
                .containsExactlyInAnyOrder("IN_OTHER_COHORT", "OVER_SIZE_CAP", "INCOMPATIBLE_VARIANT");
        assertThat(wave.cohort().filter()).isEqualTo(north);
    }

    @Test
    void filtersMatchCorridorVariantAndEveryTag() throws Exception {
        assertThat(cohorts.preview("2.4.0", new CohortFilter(null, "i-90", null, List.of()), null).members())
                .containsExactly("a1-north-1", "a1-north-2");
        assertThat(cohorts.preview("2.4.0", new CohortFilter(null, null, "rsu-a2", List.of()), null).members())
                .containsExactly("a2-north-3");
        assertThat(cohorts.preview("2.4.0", new CohortFilter(null, null, null, List.of("pilot-ok")), null).members())
                .containsExactly("a1-north-1", "a1-south-5", "a2-north-3");
    }

    @Test
    void theSizeCapHoldsForLaterAdds() throws Exception {
        var pilot = cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, 2, List.of("a1-north-1"), null)).cohort();
        var added = cohorts.addMembers(rm, pilot.id(), List.of("a1-north-2", "a1-north-1"), null);
        assertThat(added.added()).containsExactly("a1-north-2");
        assertThat(added.alreadyMembers()).containsExactly("a1-north-1");
        FleetException e = catchThrowableOfType(FleetException.class, () -> cohorts.addMembers(rm, pilot.id(), List.of("a2-north-3"), null));
        assertThat(e.code()).isEqualTo(ErrorCode.COHORT_FULL);
    }

    @Test
    void namesAreUniquePerRelease() throws Exception {
        cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, null, null));
        FleetException e = catchThrowableOfType(FleetException.class,
                () -> cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, null, null)));
        assertThat(e.code()).isEqualTo(ErrorCode.ALREADY_EXISTS);
        FleetException unknown = catchThrowableOfType(FleetException.class,
                () -> cohorts.create(rm, new Cohorts.NewCohort("9.9.9", "canary", CohortKind.CANARY, null, null, null, null)));
        assertThat(unknown.code()).isEqualTo(ErrorCode.NOT_FOUND);
    }

    @Test
    void membershipChangesAreAudited() throws Exception {
        long before = rc.count(Table.AUDIT);
        var c = cohorts.create(rm, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null, List.of("a1-north-1"), "pilot start")).cohort();
        cohorts.addMembers(rm, c.id(), List.of("a1-north-2"), "one more");
        var entries = rc.controller.auditTrail().page(before, 10);
        assertThat(entries).extracting(e -> e.action()).containsExactly("cohort.create", "cohort.members.add");
        assertThat(entries.get(1).detail()).contains("\"added\":[\"a1-north-2\"]");
        assertThat(entries.get(1).reason()).isEqualTo("one more");
        assertThat(rc.controller.auditTrail().verify().ok()).isTrue();
    }
}
