package rsuota.fleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.store.Table;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/**
 * Rules as a release engineer writes them in POST /api/v1/rollouts: slices, device-outliers and
 * control groups are accepted and stored; every bad rule is refused with 400 naming the field, and
 * nothing is created.
 */
class RuleRequestsTest {
    @TempDir
    static Path dir;
    static RunningController rc;
    static long cohortI5;

    @BeforeAll
    static void fleet() throws Exception {
        TestPki pki = new TestPki();
        rc = new RunningController(pki, dir);
        rc.releases("2.3.0", "2.4.0", dir.resolve("w"));
        Principal admin = new Principal("setup", Role.ADMIN);
        for (String d : List.of("p1", "p2")) rc.controller.devices().registerFromState(d, "rsu-a1", "north", "i-5", null, null, pki.now);
        rc.controller.devices().registerFromState("n1", "rsu-a1", "north", "i-5", null, null, pki.now);
        rc.controller.devices().registerFromState("lone", "rsu-a1", "south", "i-99", null, null, pki.now);
        cohortI5 = rc.controller.cohorts().create(admin, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null, List.of("p1", "p2"), null))
                .cohort().id();
        rc.controller.cohorts().create(admin, new Cohorts.NewCohort("2.4.0", "lonely", CohortKind.PILOT, null, null, List.of("lone"), null));
    }

    @AfterAll
    static void stop() {
        rc.close();
    }

    static String rollout(String cohort, String rule) {
        return "{\"release\":\"2.4.0\",\"phases\":[{\"cohort\":\"" + cohort + "\",\"observation\":\"1h\",\"approval\":\"auto\"}],"
                + "\"rules\":{\"window\":\"5m\",\"rules\":[" + rule + "]}}";
    }

    static Stream<Arguments> badRules() {
        return Stream.of(
                Arguments.of("unknown rule", "{\"rule\":\"availability-under\",\"threshold\":0.99}", "rules.rules[0]", "unknown rule 'availability-under'"),
                Arguments.of("unknown KPI", "{\"rule\":\"device-outliers\",\"kpi\":\"temperature\",\"threshold\":0.9}", "rules.rules[0]", "kpi must be one of"),
                Arguments.of("negative threshold", "{\"rule\":\"availability-below\",\"threshold\":-0.5}", "rules.rules[0]", "within 0..1"),
                Arguments.of("NaN threshold", "{\"rule\":\"availability-below\",\"threshold\":\"NaN\"}", "rules.rules[0]", "must be a number"),
                Arguments.of("unknown slice", "{\"rule\":\"availability-below\",\"threshold\":0.99,\"slices\":[\"site\"]}", "rules.rules[0]", "'site' is not one of"),
                Arguments.of("slices on a release-wide rule", "{\"rule\":\"open-sev1\",\"slices\":[\"variant\"]}", "rules.rules[0].slices", "not judged per device"),
                Arguments.of("control by site", "{\"rule\":\"availability-below\",\"threshold\":0.99,\"control\":{\"by\":\"site\",\"limit\":0.01}}",
                        "rules.rules[0].control", "control.by must be corridor or region"),
                Arguments.of("control without limit", "{\"rule\":\"availability-below\",\"threshold\":0.99,\"control\":{\"by\":\"corridor\"}}",
                        "rules.rules[0].control", "control.limit"),
                Arguments.of("kpi on a cohort rule", "{\"rule\":\"availability-below\",\"threshold\":0.99,\"kpi\":\"availability\"}",
                        "rules.rules[0].kpi", "belong to rule device-outliers"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRules")
    void aBadRuleIsRefusedNamingItsFieldAndCreatesNothing(String why, String rule, String field, String message) throws Exception {
        Map<Table, String> before = rc.snapshot();
        HttpResponse<String> r = rc.postJson("/api/v1/rollouts", rc.tokens.get(Role.RELEASE_MANAGER), rollout("pilot", rule));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode err = ApiJson.MAPPER.readTree(r.body());
        assertThat(err.path("error").asText()).isEqualTo("INVALID_REQUEST");
        assertThat(err.path("field").asText()).isEqualTo(field);
        assertThat(err.path("message").asText()).contains(message);
        assertThat(rc.snapshot()).isEqualTo(before);
    }

    @Test
    void aControlGroupWithNoUnitInReachIsRefused() throws Exception {
        Map<Table, String> before = rc.snapshot();
        HttpResponse<String> r = rc.postJson("/api/v1/rollouts", rc.tokens.get(Role.RELEASE_MANAGER), rollout("lonely",
                "{\"rule\":\"availability-below\",\"threshold\":0.99,\"control\":{\"by\":\"corridor\",\"limit\":0.01}}"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(r.body()).contains("rules.rules[0].control").contains("i-99").contains("would be empty");
        assertThat(rc.snapshot()).isEqualTo(before);
    }

    @Test
    void slicesOutliersAndControlGroupsAreStoredAsWritten() throws Exception {
        HttpResponse<String> r = rc.postJson("/api/v1/rollouts", rc.tokens.get(Role.RELEASE_MANAGER), rollout("pilot",
                "{\"rule\":\"availability-below\",\"threshold\":0.995,\"sustained\":\"10m\",\"slices\":[\"variant\",\"corridor\"],"
                        + "\"control\":{\"by\":\"corridor\",\"compare\":\"difference\",\"limit\":0.005,\"minDevices\":1}},"
                        + "{\"rule\":\"device-outliers\",\"kpi\":\"lag-p95\",\"threshold\":\"8s\",\"maxDevices\":2,\"sustained\":\"5m\"}"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        long id = ApiJson.MAPPER.readTree(r.body()).path("id").asLong();
        var rules = rc.controller.rollouts().list("2.4.0").stream().filter(x -> x.id() == id).findFirst().orElseThrow().rules().rules();
        assertThat(rules.get(0).slices()).containsExactly("variant", "corridor");
        assertThat(rules.get(0).control()).isEqualTo(new rsuota.fleet.policy.PauseRule.Control("corridor", "difference", 0.005, 1));
        assertThat(rules.get(1)).isEqualTo(new rsuota.fleet.policy.PauseRule.DeviceOutliers("lag-p95", 8000, 2, java.time.Duration.ofMinutes(5), 1,
                List.of()));
    }
}
