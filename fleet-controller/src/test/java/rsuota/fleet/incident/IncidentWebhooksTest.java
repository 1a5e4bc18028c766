package rsuota.fleet.incident;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.IncidentState;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.domain.Severity;
import rsuota.fleet.rollout.Approval;
import rsuota.fleet.rollout.Rollouts;
import rsuota.fleet.store.Table;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RecordingTransport;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/**
 * The incident tools' own webhooks against a running controller over real HTTP on loopback:
 * Alertmanager's version 4 payload with a bearer token, PagerDuty's v3 webhook signed with
 * HMAC-SHA256. A Sev1 arriving either way pauses the release's rollout on the next tick, like
 * the native webhook; a bad payload or signature is refused and changes nothing.
 */
class IncidentWebhooksTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SECRET = "pd-webhook-secret-0123456789abcdef";
    static final Principal RM = new Principal("rm", Role.RELEASE_MANAGER);

    @TempDir Path dir;
    RunningController rc;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        TestPki pki = new TestPki();
        rc = new RunningController(pki, dir);
        rc.controller.transport(new RecordingTransport());
        rc.controller.incidents().webhooks().pagerDutySecret(SECRET.getBytes(StandardCharsets.UTF_8));
        rc.releases("2.3.0", "2.4.0", dir.resolve("w"));
    }

    @AfterEach
    void stop() {
        rc.close();
    }

    static String alertmanager(String status, String severity, String release, String fingerprint) {
        return """
                {"version": "4", "groupKey": "{}:{alertname=\\"RsuAvailability\\"}", "truncatedAlerts": 0, "status": "%s",
                 "receiver": "rsu-ota", "groupLabels": {"alertname": "RsuAvailability"}, "commonLabels": {}, "commonAnnotations": {},
                 "externalURL": "http://alertmanager.example:9093",
                 "alerts": [{"status": "%s", "labels": {"alertname": "RsuAvailability", "severity": "%s", "release": "%s"},
                             "annotations": {"summary": "intersection controllers dark in corridor i-5"},
                             "startsAt": "2026-12-04T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                             "generatorURL": "http://prometheus.example/graph", "fingerprint": "%s"}]}
                """.formatted(status, status, severity, release, fingerprint);
    }

    static String pagerDuty(String type, String id, String priority, String title) {
        return """
                {"event": {"id": "01DEN4HPBQAEQSCZCIDUZDC9AY", "event_type": "%s", "resource_type": "incident",
                  "occurred_at": "2026-12-04T10:01:00.000Z", "agent": {"type": "user_reference", "summary": "Ops Lead"},
                  "data": {"id": "%s", "type": "incident", "number": 42, "status": "triggered", "title": "%s", "urgency": "high",
                           %s "incident_key": "rsu-ota-42"}}}
                """.formatted(type, id, title, priority == null ? "" : "\"priority\": {\"type\": \"priority_reference\", \"summary\": \"" + priority + "\"},");
    }

    HttpResponse<String> post(String path, String token, String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(rc.uri().resolve(path)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String sign(String secret, String body) {
        return "v1=" + HexFormat.of().formatHex(IncidentWebhooks.hmac(secret.getBytes(StandardCharsets.UTF_8), body.getBytes(StandardCharsets.UTF_8)));
    }

    long runningRollout() throws Exception {
        rc.controller.ingest().accept(List.of(DeviceMessages.state("e1", "rsu-a1", "i-5", null, null, 0, DeviceMessages.GOOD)));
        long cohort = rc.controller.cohorts().create(RM, new Cohorts.NewCohort("2.4.0", "east", CohortKind.WAVE, null, null, List.of("e1"), null))
                .cohort().id();
        long id = rc.controller.rollouts().create(RM, new Rollouts.NewRollout("2.4.0",
                List.of(new Rollouts.NewPhase(cohort, null, null, Duration.ofDays(1), Approval.AUTO, null)), null, null, null, null)).id();
        rc.controller.rollouts().start(RM, id, null);
        rc.controller.engine().tick(rc.clock.instant());
        return id;
    }

    @Test
    void aCriticalAlertmanagerAlertOpensASev1ThatPausesTheReleaseAndItsResolutionClosesIt() throws Exception {
        long rollout = runningRollout();
        HttpResponse<String> r = post("/api/v1/incidents/alertmanager", rc.tokens.get(Role.OPERATOR),
                alertmanager("firing", "critical", "2.4.0", "9a5c1e3f0b7d2e41"), Map.of());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode first = JSON.readTree(r.body()).path("incidents").path(0);
        assertThat(first.path("change").asText()).isEqualTo("opened");
        assertThat(first.path("incident").path("id").asText()).isEqualTo("am-9a5c1e3f0b7d2e41");
        assertThat(first.path("incident").path("severity").asText()).isEqualTo("sev1");
        assertThat(first.path("incident").path("title").asText()).isEqualTo("intersection controllers dark in corridor i-5");

        rc.controller.engine().tick(rc.clock.instant());
        assertThat(rc.controller.rollouts().status(rollout).state()).as("a Sev1 from Alertmanager pauses like the native path").isEqualTo("paused");
        var audit = rc.controller.database().read(tx -> tx.audit().page(0, 1000));
        assertThat(audit).filteredOn(e -> e.action().equals("incident.open")).singleElement()
                .satisfies(e -> assertThat(e.actor()).startsWith("alertmanager:"));

        r = post("/api/v1/incidents/alertmanager", rc.tokens.get(Role.OPERATOR), alertmanager("resolved", "critical", "2.4.0", "9a5c1e3f0b7d2e41"), Map.of());
        assertThat(JSON.readTree(r.body()).path("incidents").path(0).path("change").asText()).isEqualTo("resolved");
        assertThat(rc.controller.incidents().list()).singleElement().satisfies(i -> assertThat(i.state()).isEqualTo(IncidentState.RESOLVED));
    }

    @Test
    void alertmanagerNeedsAnOperatorTokenAndABadAlertChangesNothing() throws Exception {
        String good = alertmanager("firing", "warning", "2.4.0", "00ff");
        assertThat(post("/api/v1/incidents/alertmanager", null, good, Map.of()).statusCode()).isEqualTo(401);
        assertThat(post("/api/v1/incidents/alertmanager", rc.tokens.get(Role.VIEWER), good, Map.of()).statusCode()).isEqualTo(403);
        long auditBefore = rc.count(Table.AUDIT);
        // Two alerts, the second with a severity nobody knows: the first must not be applied either.
        String mixed = good.replace("\"alerts\": [{", "\"alerts\": [{\"status\": \"firing\", \"labels\": {\"severity\": \"critical\"}, \"fingerprint\": \"aa\"}, {")
                .replace("\"severity\": \"warning\"", "\"severity\": \"apocalyptic\"");
        HttpResponse<String> r = post("/api/v1/incidents/alertmanager", rc.tokens.get(Role.OPERATOR), mixed, Map.of());
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("alerts[1].labels.severity").contains("apocalyptic");
        HttpResponse<String> v3 = post("/api/v1/incidents/alertmanager", rc.tokens.get(Role.OPERATOR), good.replace("\"version\": \"4\"", "\"version\": \"3\""), Map.of());
        assertThat(v3.statusCode()).isEqualTo(400);
        assertThat(v3.body()).contains("version 4");
        assertThat(rc.controller.incidents().list()).isEmpty();
        assertThat(rc.count(Table.AUDIT)).isEqualTo(auditBefore);
    }

    @Test
    void aSignedPagerDutyP1OpensASev1LinkedByItsTitleAndResolvedClosesIt() throws Exception {
        long rollout = runningRollout();
        String body = pagerDuty("incident.triggered", "PGR0VU2", "P1", "Signal heads dark after update release=2.4.0");
        HttpResponse<String> r = post("/api/v1/incidents/pagerduty", null, body, Map.of("X-PagerDuty-Signature", "v1=00," + sign(SECRET, body)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        var incident = rc.controller.incidents().list().get(0);
        assertThat(incident.id()).isEqualTo("pd-PGR0VU2");
        assertThat(incident.severity()).isEqualTo(Severity.SEV1);
        assertThat(incident.release()).isEqualTo("2.4.0");
        rc.controller.engine().tick(rc.clock.instant());
        assertThat(rc.controller.rollouts().status(rollout).state()).isEqualTo("paused");
        List<rsuota.fleet.domain.AuditEntry> entries = rc.controller.database().read(tx -> tx.audit().page(0, 1000));
        assertThat(entries).filteredOn(e -> e.action().equals("incident.open"))
                .singleElement().satisfies(e -> assertThat(e.actor()).isEqualTo("integration:pagerduty"));

        String resolved = pagerDuty("incident.resolved", "PGR0VU2", "P1", "Signal heads dark after update release=2.4.0");
        assertThat(post("/api/v1/incidents/pagerduty", null, resolved, Map.of("X-PagerDuty-Signature", sign(SECRET, resolved))).statusCode()).isEqualTo(200);
        assertThat(rc.controller.incidents().list().get(0).state()).isEqualTo(IncidentState.RESOLVED);
    }

    @Test
    void pagerDutyWithoutOrWithAWrongSignatureOrAnUnknownEventIsRefusedAndChangesNothing() throws Exception {
        String body = pagerDuty("incident.triggered", "PX1", "P2", "release=2.4.0 degraded");
        long auditBefore = rc.count(Table.AUDIT);
        assertThat(post("/api/v1/incidents/pagerduty", null, body, Map.of()).statusCode()).isEqualTo(401);
        HttpResponse<String> wrongKey = post("/api/v1/incidents/pagerduty", null, body, Map.of("X-PagerDuty-Signature", sign("another-secret-0123456789", body)));
        assertThat(wrongKey.statusCode()).isEqualTo(401);
        assertThat(wrongKey.body()).contains("does not match");
        String tampered = body.replace("P2", "P1");
        assertThat(post("/api/v1/incidents/pagerduty", null, tampered, Map.of("X-PagerDuty-Signature", sign(SECRET, body))).statusCode())
                .as("a body changed after signing").isEqualTo(401);
        String unknown = pagerDuty("incident.exploded", "PX1", "P2", "x");
        HttpResponse<String> u = post("/api/v1/incidents/pagerduty", null, unknown, Map.of("X-PagerDuty-Signature", sign(SECRET, unknown)));
        assertThat(u.statusCode()).isEqualTo(400);
        assertThat(u.body()).contains("incident.exploded");
        String annotated = pagerDuty("incident.annotated", "PX1", "P2", "x");
        HttpResponse<String> a = post("/api/v1/incidents/pagerduty", null, annotated, Map.of("X-PagerDuty-Signature", sign(SECRET, annotated)));
        assertThat(a.statusCode()).isEqualTo(200);
        assertThat(a.body()).contains("ignored");
        assertThat(rc.controller.incidents().list()).isEmpty();
        assertThat(rc.count(Table.AUDIT)).isEqualTo(auditBefore);
    }

    @Test
    void severityMappings() throws Exception {
        assertThat(IncidentWebhooks.alertmanagerSeverity("critical", "f")).isEqualTo(Severity.SEV1);
        assertThat(IncidentWebhooks.alertmanagerSeverity("warning", "f")).isEqualTo(Severity.SEV3);
        assertThat(IncidentWebhooks.alertmanagerSeverity("P2", "f")).isEqualTo(Severity.SEV2);
        assertThat(IncidentWebhooks.pagerDutySeverity(JSON.readTree("{\"priority\": {\"summary\": \"P5\"}}"))).isEqualTo(Severity.SEV4);
        assertThat(IncidentWebhooks.pagerDutySeverity(JSON.readTree("{\"urgency\": \"low\"}"))).isEqualTo(Severity.SEV3);
        assertThat(IncidentWebhooks.releaseIn("[rsu] release=2.4.0-rc1 dark")).isEqualTo("2.4.0-rc1");
        assertThat(IncidentWebhooks.releaseIn("prerelease=2.4.0")).as("only a whole word").isNull();
    }
}
