package rsuota.fleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.app.DataDir;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.AuditEntry;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.release.ReleaseCatalog;
import rsuota.fleet.rollout.Approval;
import rsuota.fleet.rollout.Rollouts;
import rsuota.fleet.store.Table;
import rsuota.fleet.testing.Bundles;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/**
 * Every endpoint against every kind of caller, generated: allowed calls work (and a mutation
 * writes exactly one audit entry naming the caller), refused calls get 401/403 and change nothing.
 * The expected least roles below are written from the design, independently of the route table,
 * and {@link #everyRouteIsInTheMatrix} keeps the two in step.
 */
class RbacMatrixTest {
    static TestPki pki;
    @TempDir
    static Path dir;
    static RunningController rc;
    static final AtomicInteger n = new AtomicInteger();

    /** Who calls: no token, garbage, a non-bearer scheme, or a valid token of each role. */
    enum Caller {
        NO_TOKEN(null), UNKNOWN_TOKEN(null), NOT_BEARER(null),
        VIEWER(Role.VIEWER), OPERATOR(Role.OPERATOR), RELEASE_MANAGER(Role.RELEASE_MANAGER), ADMIN(Role.ADMIN);

        final Role role;

        Caller(Role role) {
            this.role = role;
        }

        String token() {
            return switch (this) {
                case NO_TOKEN -> null;
                case UNKNOWN_TOKEN -> "rsuota_c29tZXRoaW5nIHRoYXQgaXMgbm90IGEgdG9rZW4gYXQgYWxs";
                case NOT_BEARER -> "Basic YWRtaW46YWRtaW4=";
                default -> rc.tokens.get(role);
            };
        }

        String label() {
            return role == Role.ADMIN ? DataDir.INITIAL_ADMIN_LABEL : "test-" + role.wire();
        }
    }

    /** A request ready to send; preparing it may set up state it needs (a fresh device, a bundle). */
    record Request(String path, String contentType, String body, Map<String, String> headers) {
        Request(String path, String contentType, String body) {
            this(path, contentType, body, Map.of());
        }
    }

    interface Preparer {
        Request prepare() throws Exception;
    }

    /**
     * @param least  least role allowed (null: open to everyone)
     * @param action the audit action an allowed call records (null: a read)
     */
    record Endpoint(String method, String pattern, Role least, String action, Preparer preparer) {
        @Override
        public String toString() {
            return method + " " + pattern;
        }
    }

    static final String SELF_ROTATE = "/api/v1/tokens/self/rotate";

    static final List<Endpoint> ENDPOINTS = List.of(
            new Endpoint("POST", "/api/v1/tokens", Role.ADMIN, "token.create",
                    () -> json("/api/v1/tokens", "{\"role\":\"viewer\",\"label\":\"matrix-" + n.incrementAndGet() + "\"}")),
            new Endpoint("GET", "/api/v1/tokens", Role.ADMIN, null, () -> new Request("/api/v1/tokens?limit=5", null, null)),
            new Endpoint("POST", "/api/v1/tokens/{id}/revoke", Role.ADMIN, "token.revoke",
                    () -> json("/api/v1/tokens/" + freshToken() + "/revoke", "{\"reason\":\"matrix\"}")),
            new Endpoint("POST", "/api/v1/tokens/{id}/rotate", Role.ADMIN, "token.rotate",
                    () -> json("/api/v1/tokens/" + freshToken() + "/rotate", "{\"reason\":\"matrix\",\"ttl\":\"30d\"}")),
            // Each caller rotates its own token; check() keeps the new secret for the calls that follow.
            new Endpoint("POST", SELF_ROTATE, Role.VIEWER, "token.rotate", () -> json(SELF_ROTATE, "{\"reason\":\"matrix\"}")),
            read("/api/v1/devices", "/api/v1/devices"),
            read("/api/v1/devices/{id}", "/api/v1/devices/dev-0"),
            read("/api/v1/devices/{id}/events", "/api/v1/devices/dev-0/events"),
            new Endpoint("POST", "/api/v1/devices/import", Role.RELEASE_MANAGER, "device.import",
                    () -> new Request("/api/v1/devices/import", "text/csv", "id,variant,region\nimp-" + n.incrementAndGet() + ",rsu-a1,east\n")),
            new Endpoint("POST", "/api/v1/releases", Role.RELEASE_MANAGER, "release.create", () -> {
                String name = Bundles.publish(Bundles.build(pki, dir.resolve("work"), "3.0." + n.incrementAndGet(), "rsu-a1"), rc.artifacts());
                return json("/api/v1/releases", "{\"bundle\":\"" + name + "\",\"previousStable\":\"2.4.0\",\"reason\":\"matrix\"}");
            }),
            read("/api/v1/releases", "/api/v1/releases"),
            read("/api/v1/releases/{version}", "/api/v1/releases/2.4.0"),
            read("/api/v1/releases/{version}/notes", "/api/v1/releases/2.4.0/notes?format=md"),
            new Endpoint("POST", "/api/v1/releases/{version}/withdraw", Role.RELEASE_MANAGER, "release.withdraw", () -> {
                String v = "4.0." + n.incrementAndGet();
                String name = Bundles.publish(Bundles.build(pki, dir.resolve("work"), v, "rsu-a1"), rc.artifacts());
                rc.controller.releases().create(RbacMatrixTest.SETUP, new ReleaseCatalog.NewRelease(name, null, "2.3.0", null, null));
                return json("/api/v1/releases/" + v + "/withdraw", "{\"reason\":\"matrix\"}");
            }),
            new Endpoint("POST", "/api/v1/cohorts", Role.RELEASE_MANAGER, "cohort.create",
                    () -> json("/api/v1/cohorts", "{\"release\":\"2.4.0\",\"name\":\"wave-" + n.incrementAndGet() + "\",\"kind\":\"wave\"}")),
            read("/api/v1/cohorts", "/api/v1/cohorts?release=2.4.0"),
            read("/api/v1/cohorts/{id}", "/api/v1/cohorts/1"),
            new Endpoint("POST", "/api/v1/cohorts/{id}/members", Role.RELEASE_MANAGER, "cohort.members.add", () -> {
                String id = "mem-" + n.incrementAndGet();
                rc.controller.devices().registerFromState(id, "rsu-a1", "north", null, null, null, pki.now);
                return json("/api/v1/cohorts/1/members", "{\"devices\":[\"" + id + "\"]}");
            }),
            new Endpoint("POST", "/api/v1/incidents", Role.OPERATOR, "incident.open",
                    () -> json("/api/v1/incidents", "{\"id\":\"INC-" + n.incrementAndGet()
                            + "\",\"severity\":\"sev2\",\"state\":\"triggered\",\"release\":\"2.4.0\",\"assignee\":\"ignored\"}")),
            new Endpoint("POST", "/api/v1/incidents/alertmanager", Role.OPERATOR, "incident.open",
                    () -> json("/api/v1/incidents/alertmanager", "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
                            + "\"labels\":{\"alertname\":\"RsuDown\",\"severity\":\"warning\",\"release\":\"2.4.0\"},\"fingerprint\":\""
                            + Long.toHexString(1000 + n.incrementAndGet()) + "\"}]}")),
            new Endpoint("POST", "/api/v1/incidents/pagerduty", null, RbacMatrixTest.SIGNED_WEBHOOK, () -> {
                String body = "{\"event\":{\"event_type\":\"incident.triggered\",\"resource_type\":\"incident\",\"data\":{\"id\":\"PD"
                        + n.incrementAndGet() + "\",\"title\":\"release=2.4.0 down\",\"urgency\":\"low\"}}}";
                return new Request("/api/v1/incidents/pagerduty", "application/json", body, Map.of("X-PagerDuty-Signature", "v1="
                        + java.util.HexFormat.of().formatHex(rsuota.fleet.incident.IncidentWebhooks.hmac(RbacMatrixTest.PAGERDUTY_SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8), body.getBytes(java.nio.charset.StandardCharsets.UTF_8)))));
            }),
            read("/api/v1/incidents", "/api/v1/incidents"),
            read("/api/v1/audit", "/api/v1/audit?limit=5"),
            read("/api/v1/audit/verify", "/api/v1/audit/verify"),
            read("/api/v1/audit/checkpoint", "/api/v1/audit/checkpoint"),
            new Endpoint("POST", "/api/v1/audit/checkpoint/verify", Role.VIEWER, null, () -> {
                var c = rc.controller.checkpoints().take();
                return json("/api/v1/audit/checkpoint/verify", c.json());
            }),
            read("/api/v1/audit/export", "/api/v1/audit/export"),
            read("/metrics", "/metrics"),
            new Endpoint("GET", "/healthz", null, null, () -> new Request("/healthz", null, null)),
            new Endpoint("GET", "/readyz", null, null, () -> new Request("/readyz", null, null)),
            read("/api/v1/openapi.yaml", "/api/v1/openapi.yaml"),
            new Endpoint("POST", "/api/v1/rollouts", Role.RELEASE_MANAGER, "rollout.create",
                    () -> json("/api/v1/rollouts", "{\"release\":\"2.4.0\",\"phases\":[{\"cohortId\":" + freshCohort()
                            + ",\"observation\":\"1h\",\"approval\":\"auto\"}],\"reason\":\"matrix\"}")),
            read("/api/v1/rollouts", "/api/v1/rollouts"),
            read("/api/v1/rollouts/{id}", "/api/v1/rollouts/1"),
            new Endpoint("POST", "/api/v1/rollouts/{id}/start", Role.RELEASE_MANAGER, "rollout.start",
                    () -> json("/api/v1/rollouts/" + rollout(Stage.DRAFT) + "/start", "{\"reason\":\"matrix\"}")),
            new Endpoint("POST", "/api/v1/rollouts/{id}/pause", Role.OPERATOR, "rollout.pause",
                    () -> json("/api/v1/rollouts/" + rollout(Stage.RUNNING) + "/pause", "{\"reason\":\"matrix\"}")),
            new Endpoint("POST", "/api/v1/rollouts/{id}/resume", Role.RELEASE_MANAGER, "rollout.resume", () -> {
                long id = rollout(Stage.PAUSED);
                long pause = rc.controller.rollouts().status(id).pauses().get(0).id();
                return json("/api/v1/rollouts/" + id + "/resume", "{\"reason\":\"matrix\",\"acknowledge\":[" + pause + "]}");
            }),
            new Endpoint("POST", "/api/v1/rollouts/{id}/advance", Role.RELEASE_MANAGER, "rollout.advance",
                    () -> json("/api/v1/rollouts/" + rollout(Stage.AWAITING_APPROVAL) + "/advance", "{\"reason\":\"matrix\"}")),
            new Endpoint("POST", "/api/v1/rollouts/{id}/extend", Role.RELEASE_MANAGER, "rollout.extend",
                    () -> json("/api/v1/rollouts/" + rollout(Stage.RUNNING) + "/extend", "{\"by\":\"1h\",\"reason\":\"matrix\"}")),
            new Endpoint("POST", "/api/v1/rollouts/{id}/rollback", Role.OPERATOR, "rollout.rollback",
                    () -> json("/api/v1/rollouts/" + rollout(Stage.RUNNING) + "/rollback", "{\"scope\":\"rollout\",\"reason\":\"matrix\"}")),
            new Endpoint("POST", "/api/v1/rollouts/{id}/devices/{device}/clear", Role.OPERATOR, "rollout.device.flag.clear", () -> {
                long id = rollout(Stage.RUNNING);
                String dev = rc.controller.rollouts().status(id).phases().get(0).devices().get(0).device();
                long rev = rc.controller.database().read(tx -> tx.desired().find(dev)).orElseThrow().rev();
                rc.controller.ingest().accept(List.of(rsuota.fleet.testing.DeviceMessages.state(dev, "rsu-a1", "i-5", "needs_investigation",
                        "2.4.0", rev, rsuota.fleet.testing.DeviceMessages.GOOD)));
                return json("/api/v1/rollouts/" + id + "/devices/" + dev + "/clear", "{\"reason\":\"looked at it on site\"}");
            }),
            new Endpoint("POST", "/api/v1/devices/{id}/diagnostics", Role.OPERATOR, "device.diagnostics",
                    () -> json("/api/v1/devices/dev-0/diagnostics", "{\"reason\":\"matrix\"}")),
            read("/api/v1/diagnostics/{id}", "/api/v1/diagnostics/1"),
            new Endpoint("GET", "/api/v1/diagnostics/{id}/archive", Role.OPERATOR, null, () -> new Request("/api/v1/diagnostics/1/archive", null, null)),
            new Endpoint("PUT", "/uploads/diagnostics/{capability}", null, RbacMatrixTest.DEVICE_UPLOAD,
                    () -> new Request("/uploads/diagnostics/" + freshUpload(), "application/octet-stream", "diagnostics archive bytes")),
            new Endpoint("HEAD", "/uploads/diagnostics/{capability}", null, null,
                    () -> new Request("/uploads/diagnostics/" + freshUpload(), null, null)),
            new Endpoint("GET", "/artifacts/*", null, null, () -> new Request("/artifacts/matrix.bin", null, null)));

    /** A webhook whose signature is the credential: audited under the integration's own name, whoever sends it. */
    static final String SIGNED_WEBHOOK = "(signed webhook)";
    static final String PAGERDUTY_SECRET = "matrix-pagerduty-secret-0123456789";

    /** A device's upload: it changes rows but is telemetry, not an operator call, so it writes no audit entry. */
    static final String DEVICE_UPLOAD = "(device upload)";

    enum Stage { DRAFT, RUNNING, PAUSED, AWAITING_APPROVAL }

    /** A new viewer token's id. */
    static long freshToken() throws Exception {
        return rc.controller.tokens().create(SETUP, Role.VIEWER, "matrix-t-" + n.incrementAndGet(), null).info().id();
    }

    /** A new cohort of release 2.4.0 holding one new device. */
    static long freshCohort() throws Exception {
        String dev = "ro-" + n.incrementAndGet();
        rc.controller.devices().registerFromState(dev, "rsu-a1", "north", "i-5", null, null, pki.now);
        return rc.controller.cohorts().create(SETUP, new Cohorts.NewCohort("2.4.0", "c-" + dev, CohortKind.PILOT, null, null, List.of(dev), null))
                .cohort().id();
    }

    /** A one-phase rollout over a fresh cohort, brought to {@code stage} through the services (as "setup"). */
    static long rollout(Stage stage) throws Exception {
        long cohort = freshCohort();
        String dev = rc.controller.cohorts().get(cohort).members().get(0).deviceId();
        var plan = List.of(new Rollouts.NewPhase(cohort, null, null, java.time.Duration.ZERO, Approval.MANUAL, null));
        long id = rc.controller.rollouts().create(SETUP, new Rollouts.NewRollout("2.4.0", plan, null, null, null, null)).id();
        if (stage == Stage.DRAFT) return id;
        rc.controller.rollouts().start(SETUP, id, null);
        rc.controller.engine().tick(rc.clock.instant());
        if (stage == Stage.PAUSED) rc.controller.rollouts().pause(SETUP, id, "matrix setup");
        if (stage == Stage.AWAITING_APPROVAL) {
            long rev = rc.controller.database().read(tx -> tx.desired().find(dev)).orElseThrow().rev();
            rc.controller.ingest().accept(List.of(rsuota.fleet.testing.DeviceMessages.state(dev, "rsu-a1", "i-5", "activated", "2.4.0", rev,
                    rsuota.fleet.testing.DeviceMessages.GOOD)));
            rc.controller.engine().tick(rc.clock.instant());
            assertThat(rc.controller.rollouts().status(id).phases().get(0).state()).isEqualTo("awaiting_approval");
        }
        return id;
    }

    /** A new diagnostics request of dev-0; returns its upload capability. */
    static String freshUpload() throws Exception {
        var d = rc.controller.diagnostics().request(SETUP, "dev-0", null);
        String payload = rc.controller.database().read(tx -> tx.commands().find(d.commandId())).orElseThrow().payload();
        String url = ApiJson.MAPPER.readTree(payload).get("args").get("uploadUrl").asText();
        return url.substring(url.lastIndexOf('/') + 1);
    }

    static Endpoint read(String pattern, String path) {
        return new Endpoint("GET", pattern, Role.VIEWER, null, () -> new Request(path, null, null));
    }

    static Request json(String path, String body) {
        return new Request(path, "application/json", body);
    }

    static final Principal SETUP = new Principal("setup", Role.ADMIN);

    @BeforeAll
    static void fleet() throws Exception {
        pki = new TestPki();
        rc = new RunningController(pki, dir);
        rc.controller.incidents().webhooks().pagerDutySecret(PAGERDUTY_SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        // Every endpoint is called with a wrong token and a Basic header from this one address: more than the default limit.
        rc.controller.authLimiter().maxFailures(100_000);
        Principal setup = SETUP;
        String stable = Bundles.publish(Bundles.build(pki, dir.resolve("work"), "2.3.0", "rsu-a1"), rc.artifacts());
        rc.controller.releases().create(setup, new ReleaseCatalog.NewRelease(stable, null, null, null, null));
        String name = Bundles.publish(Bundles.build(pki, dir.resolve("work"), "2.4.0", "rsu-a1"), rc.artifacts());
        rc.controller.releases().create(setup, new ReleaseCatalog.NewRelease(name, null, "2.3.0", null, null));
        rc.controller.devices().registerFromState("dev-0", "rsu-a1", "north", "i-90", null, null, pki.now);
        rc.controller.cohorts().create(setup, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, List.of("dev-0"), null));
        Files.write(rc.artifacts().resolve("matrix.bin"), new byte[1000]);
        rollout(Stage.DRAFT);
        var d = rc.controller.diagnostics().request(setup, "dev-0", null);
        String payload = rc.controller.database().read(tx -> tx.commands().find(d.commandId())).orElseThrow().payload();
        String url = ApiJson.MAPPER.readTree(payload).get("args").get("uploadUrl").asText();
        rc.controller.diagnostics().upload(url.substring(url.lastIndexOf('/') + 1), null, "archive".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() {
        rc.close();
    }

    @TestFactory
    Stream<DynamicTest> everyEndpointAgainstEveryCaller() {
        return ENDPOINTS.stream().flatMap(e -> Stream.of(Caller.values())
                .map(c -> DynamicTest.dynamicTest(e + " as " + c, () -> check(e, c))));
    }

    @Test
    void everyRouteIsInTheMatrix() {
        Set<String> routes = rc.controller.routes().routes().stream().map(r -> r.method() + " " + r.pattern()).collect(Collectors.toSet());
        // /artifacts/* is served by Jetty's resource handler, outside the route table.
        Set<String> matrix = ENDPOINTS.stream().filter(e -> !e.pattern().startsWith("/artifacts/")).map(Endpoint::toString).collect(Collectors.toSet());
        assertThat(matrix).isEqualTo(routes);
        Map<String, Role> declared = new java.util.HashMap<>();
        for (Route r : rc.controller.routes().routes()) declared.put(r.method() + " " + r.pattern(), r.role());
        for (Endpoint e : ENDPOINTS) {
            if (!e.pattern().startsWith("/artifacts/")) assertThat(declared.get(e.toString())).as(e.toString()).isEqualTo(e.least());
        }
    }

    private static void check(Endpoint e, Caller c) throws Exception {
        Request req = e.preparer().prepare();
        Map<Table, String> before = rc.snapshot();
        HttpResponse<String> resp = rc.send(e.method(), req.path(), c.token(), req.contentType(), req.body(), req.headers());
        boolean allowed = e.least() == null || (c.role != null && c.role.atLeast(e.least()));
        if (!allowed) {
            int expected = c.role == null ? 401 : 403;
            assertThat(resp.statusCode()).as("status, body %s", resp.body()).isEqualTo(expected);
            JsonNode err = ApiJson.MAPPER.readTree(resp.body());
            assertThat(err.get("error").asText()).isEqualTo(expected == 401 ? "UNAUTHENTICATED" : "FORBIDDEN");
            assertThat(err.get("message").asText()).isNotBlank();
            if (expected == 401) assertThat(resp.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
            assertThat(rc.snapshot()).as("a refused call changes nothing").isEqualTo(before);
            return;
        }
        assertThat(resp.statusCode()).as("status, body %s", resp.body()).isBetween(200, 299);
        if (e.pattern().equals(SELF_ROTATE)) rc.tokens.put(c.role, ApiJson.MAPPER.readTree(resp.body()).get("token").asText());
        Map<Table, String> after = rc.snapshot();
        if (e.action() == null) {
            assertThat(after).as("a read changes nothing").isEqualTo(before);
            return;
        }
        if (e.action().equals(DEVICE_UPLOAD)) {
            assertThat(after.get(Table.AUDIT)).as("device uploads are not audited").isEqualTo(before.get(Table.AUDIT));
            assertThat(after.get(Table.DIAGNOSTICS)).isNotEqualTo(before.get(Table.DIAGNOSTICS));
            return;
        }
        if (e.action().equals(SIGNED_WEBHOOK)) {
            long auditRows = RunningController.rows(before.get(Table.AUDIT));
            assertThat(rc.controller.auditTrail().page(auditRows, 10)).singleElement()
                    .satisfies(a -> assertThat(a.actor()).isEqualTo("integration:pagerduty"));
            assertThat(after.get(Table.INCIDENTS)).isNotEqualTo(before.get(Table.INCIDENTS));
            return;
        }
        long auditBefore = RunningController.rows(before.get(Table.AUDIT));
        assertThat(RunningController.rows(after.get(Table.AUDIT))).as("exactly one audit entry per mutation").isEqualTo(auditBefore + 1);
        List<AuditEntry> last = rc.controller.auditTrail().page(auditBefore, 10);
        assertThat(last).singleElement().satisfies(a -> {
            assertThat(a.action()).isEqualTo(e.action());
            // The Alertmanager webhook names the tool and the token it came with.
            assertThat(a.actor()).isEqualTo(e.pattern().endsWith("/alertmanager") ? "alertmanager:" + c.label() : c.label());
            assertThat(a.role()).isEqualTo(c.role.wire());
            assertThat(a.at()).isEqualTo(rc.clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        });
        List<Table> changed = new ArrayList<>();
        for (Table t : Table.values()) if (!after.get(t).equals(before.get(t)) && t != Table.AUDIT) changed.add(t);
        assertThat(changed).as("the mutation changed something besides the audit log").isNotEmpty();
        assertThat(rc.controller.auditTrail().verify().ok()).isTrue();
    }
}
