package rsuota.fleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
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
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.release.ReleaseCatalog;
import rsuota.fleet.store.Table;
import rsuota.fleet.testing.Bundles;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/** Refused requests over HTTP: the error shape, the status from the one mapping, and no change at all. */
class ApiErrorsTest {
    static TestPki pki;
    @TempDir
    static Path dir;
    static RunningController rc;

    @BeforeAll
    static void fleet() throws Exception {
        pki = new TestPki();
        rc = new RunningController(pki, dir);
        Principal setup = new Principal("setup", Role.ADMIN);
        String name = Bundles.publish(Bundles.build(pki, dir.resolve("work"), "2.4.0", "rsu-a1"), rc.artifacts());
        rc.controller.releases().create(setup, new ReleaseCatalog.NewRelease(name, null, null, null, null));
        rc.controller.devices().registerFromState("a1", "rsu-a1", "north", null, null, null, pki.now);
        rc.controller.devices().registerFromState("b1", "rsu-b1", "north", null, null, null, pki.now);
        rc.controller.cohorts().create(setup, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, List.of("a1"), null));
        rc.controller.cohorts().create(setup, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null, List.of(), null));
        Path rogue = Bundles.build(pki, pki.rogueSigner, dir.resolve("work"), "6.6.6", "rsu-a1");
        Files.copy(rogue, rc.artifacts().resolve("rogue.rsub"));
    }

    @AfterAll
    static void stop() {
        rc.close();
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of("device in another cohort", "POST", "/api/v1/cohorts/2/members", "application/json",
                        "{\"devices\":[\"a1\"]}", ErrorCode.COHORT_CONFLICT, 409, Map.of("cohortName", "canary")),
                Arguments.of("incompatible variant", "POST", "/api/v1/cohorts/2/members", "application/json",
                        "{\"devices\":[\"b1\"]}", ErrorCode.INCOMPATIBLE_VARIANT, 422, Map.of("variant", "rsu-b1")),
                Arguments.of("rogue signer", "POST", "/api/v1/releases", "application/json",
                        "{\"bundle\":\"rogue.rsub\"}", ErrorCode.BUNDLE_REJECTED, 422, Map.of("reason", "UNTRUSTED_SIGNER")),
                Arguments.of("taken release version", "POST", "/api/v1/releases", "application/json",
                        "{\"bundle\":\"" + "rsu-2.4.0-" + pki.signer.cert().getSerialNumber() + ".rsub\"}", ErrorCode.ALREADY_EXISTS, 409, Map.of()),
                Arguments.of("bad inventory row", "POST", "/api/v1/devices/import", "text/csv",
                        "id,variant\nok-1,rsu-a1\nbad one,rsu-a1\n", ErrorCode.INVENTORY_INVALID, 400, Map.of("line", "3", "field", "id")),
                Arguments.of("unknown JSON field", "POST", "/api/v1/cohorts", "application/json",
                        "{\"release\":\"2.4.0\",\"name\":\"w\",\"kind\":\"wave\",\"colour\":\"red\"}", ErrorCode.INVALID_REQUEST, 400, Map.of("field", "colour")),
                Arguments.of("not JSON", "POST", "/api/v1/tokens", "application/json", "{role: admin", ErrorCode.INVALID_REQUEST, 400, Map.of()),
                Arguments.of("unknown role", "POST", "/api/v1/tokens", "application/json",
                        "{\"role\":\"root\",\"label\":\"x\"}", ErrorCode.INVALID_REQUEST, 400, Map.of("field", "role")),
                Arguments.of("taken token label", "POST", "/api/v1/tokens", "application/json",
                        "{\"role\":\"viewer\",\"label\":\"test-viewer\"}", ErrorCode.ALREADY_EXISTS, 409, Map.of()),
                Arguments.of("unknown cohort", "POST", "/api/v1/cohorts/99/members", "application/json",
                        "{\"devices\":[\"a1\"]}", ErrorCode.NOT_FOUND, 404, Map.of()),
                Arguments.of("new incident without severity", "POST", "/api/v1/incidents", "application/json",
                        "{\"id\":\"INC-1\"}", ErrorCode.INVALID_REQUEST, 400, Map.of("field", "severity")),
                Arguments.of("wrong method", "DELETE", "/api/v1/releases", null, null, ErrorCode.METHOD_NOT_ALLOWED, 405, Map.of()),
                Arguments.of("unknown path", "GET", "/api/v1/nothing", null, null, ErrorCode.NOT_FOUND, 404, Map.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void refusedRequestsChangeNothing(String name, String method, String path, String contentType, String body,
                                      ErrorCode code, int status, Map<String, String> details) throws Exception {
        Map<Table, String> before = rc.snapshot();
        HttpResponse<String> resp = rc.send(method, path, rc.adminToken, contentType, body);
        assertThat(resp.statusCode()).as(resp.body()).isEqualTo(status).isEqualTo(ErrorStatus.of(code));
        assertThat(resp.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        JsonNode err = ApiJson.MAPPER.readTree(resp.body());
        assertThat(err.get("error").asText()).isEqualTo(code.name());
        assertThat(err.get("message").asText()).isNotBlank();
        details.forEach((k, v) -> assertThat(err.path(k).asText()).as(k).isEqualTo(v));
        assertThat(rc.snapshot()).as("no row and no audit entry").isEqualTo(before);
    }

    @Test
    void metricsCountTheFleet() throws Exception {
        // The metrics request itself is counted after its body is rendered: make sure one 200 precedes it.
        assertThat(rc.get("/api/v1/devices", rc.tokens.get(Role.VIEWER)).statusCode()).isEqualTo(200);
        HttpResponse<String> resp = rc.get("/metrics", rc.tokens.get(Role.VIEWER));
        assertThat(resp.statusCode()).isEqualTo(200);
        assertThat(resp.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
        assertThat(resp.body()).contains("# TYPE rsuota_devices gauge\nrsuota_devices " + rc.count(Table.DEVICES) + "\n")
                .contains("rsuota_devices_by_variant{variant=\"rsu-b1\"} 1")
                .contains("rsuota_releases 1")
                .contains("rsuota_incidents_open{severity=\"sev1\"} 0")
                .contains("rsuota_audit_entries " + rc.count(Table.AUDIT))
                .containsPattern("rsuota_http_responses_total\\{code=\"200\"} \\d+");
    }

    @Test
    void auditVerifyAndExportOverHttp() throws Exception {
        String viewer = rc.tokens.get(Role.VIEWER);
        JsonNode v = ApiJson.MAPPER.readTree(rc.get("/api/v1/audit/verify", viewer).body());
        assertThat(v.get("ok").asBoolean()).isTrue();
        assertThat(v.has("firstBroken")).isTrue();
        assertThat(v.get("firstBroken").isNull()).isTrue();
        HttpResponse<String> export = rc.get("/api/v1/audit/export", viewer);
        assertThat(export.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/x-ndjson"));
        List<String> lines = export.body().lines().toList();
        assertThat(lines).hasSize((int) rc.count(Table.AUDIT));
        JsonNode first = ApiJson.MAPPER.readTree(lines.get(0));
        assertThat(first.get("seq").asLong()).isEqualTo(1);
        assertThat(first.get("prevHash").asText()).isEqualTo("0".repeat(64));
        assertThat(first.get("action").asText()).isEqualTo("token.create");
    }
}
