package rsuota.fleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.store.CommandRepository;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/** fleetctl's rollout verbs and device diag against a running controller, text and --json. */
class FleetctlRolloutTest {
    @TempDir
    Path dir;
    RunningController rc;

    record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return ApiClient.JSON.readTree(out);
        }
    }

    /** fleetctl through the contract check (RunningController.contractUri): each exchange must match openapi.yaml. */
    Run fleetctl(Role role, String... args) throws java.io.IOException {
        List<String> all = new ArrayList<>(List.of("--url", rc.contractUri().toString(), "--token", rc.tokens.get(role)));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Fleetctl.execute(all.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeEach
    void fleet() throws Exception {
        TestPki pki = new TestPki();
        rc = new RunningController(pki, dir);
        rc.releases("2.3.0", "2.4.0", dir.resolve("w"));
        Principal admin = new Principal("setup", Role.ADMIN);
        rc.controller.ingest().accept(List.of(DeviceMessages.state("c1", "rsu-a1", "i-5", "idle", null, 0, DeviceMessages.GOOD)));
        rc.controller.cohorts().create(admin, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, List.of("c1"), null));
    }

    @AfterEach
    void stop() {
        rc.close();
    }

    @Test
    void releaseNotesRenderTheVariantsAndThePlanFromTheStore() throws Exception {
        rc.controller.ingest().accept(List.of(DeviceMessages.state("x1", "rsu-x9", "i-5", "idle", null, 0, DeviceMessages.GOOD)));
        Run none = fleetctl(Role.VIEWER, "release", "notes", "2.4.0");
        assertThat(none.code()).as(none.err()).isZero();
        assertThat(none.out()).contains("# Release 2.4.0").contains("previous stable: 2.3.0").contains("Supported: rsu-a1")
                .contains("variant rsu-x9 (1 units in the fleet)").contains("No rollout of this release has been created.");
        assertThat(fleetctl(Role.RELEASE_MANAGER, "rollout", "create", "--release", "2.4.0", "--phase", "canary:48h:manual").code()).isZero();
        Run md = fleetctl(Role.VIEWER, "release", "notes", "2.4.0", "--format", "md");
        assertThat(md.out()).contains("| 0 canary | canary | canary | 1 | 2d | manual | success >= 1.0, failed <= 0, silent <= 0 |")
                .contains("| availability-below | observed < 0.995 ratio | 10m | 1 |")
                .contains("| lag-p95-above | observed > 10000 ms | 10m | 1 |")
                .contains("| open-sev1 | any open Sev1 incident | 0s | 0 |");
        Run json = fleetctl(Role.VIEWER, "release", "notes", "2.4.0", "--format", "json");
        JsonNode n = json.json();
        assertThat(n.get("supportedVariants").toString()).isEqualTo("[\"rsu-a1\"]");
        assertThat(n.get("blockedVariants").get(0).get("variant").asText()).isEqualTo("rsu-x9");
        assertThat(n.get("rollouts").get(0).get("phases").get(0).get("devices").asInt()).isEqualTo(1);
        assertThat(n.get("rollouts").get(0).get("rules")).hasSize(6);
        Run bad = fleetctl(Role.VIEWER, "release", "notes", "2.4.0", "--format", "pdf");
        assertThat(bad.code()).isEqualTo(ExitCodes.REJECTED);
        assertThat(bad.err()).contains("format").contains("pdf");
        assertThat(fleetctl(Role.VIEWER, "release", "notes", "9.9.9").code()).isEqualTo(ExitCodes.NOT_FOUND);
    }

    @Test
    void twoOperatorsCannotOverwriteEachOthersDecision() throws Exception {
        Run create = fleetctl(Role.RELEASE_MANAGER, "rollout", "create", "--release", "2.4.0", "--phase", "canary:48h:manual", "--json");
        long id = create.json().get("id").asLong();
        assertThat(fleetctl(Role.RELEASE_MANAGER, "rollout", "start", Long.toString(id), "--reason", "go").code()).isZero();
        var read = rc.get("/api/v1/rollouts/" + id, rc.tokens.get(Role.OPERATOR));
        String etag = read.headers().firstValue("ETag").orElseThrow();
        assertThat(etag).isEqualTo("\"" + ApiClient.JSON.readTree(read.body()).get("etag").asText() + "\"");
        // A sample or a report changes no decision: the ETag stays.
        rc.controller.ingest().accept(List.of(DeviceMessages.state("c1", "rsu-a1", "i-5", "downloading", "2.4.0", 0, DeviceMessages.GOOD)));
        assertThat(rc.get("/api/v1/rollouts/" + id, rc.tokens.get(Role.OPERATOR)).headers().firstValue("ETag")).hasValue(etag);

        // Operator B pauses first; operator A's pause, sent with the ETag A read, is refused and changes nothing.
        assertThat(fleetctl(Role.OPERATOR, "--if-match", etag, "rollout", "pause", Long.toString(id), "--reason", "B: KPI dip").code()).isZero();
        long audit = rc.count(rsuota.fleet.store.Table.AUDIT);
        Run stale = fleetctl(Role.OPERATOR, "--if-match", etag, "rollout", "rollback", Long.toString(id), "--reason", "A: roll back");
        assertThat(stale.code()).isEqualTo(ExitCodes.REJECTED);
        assertThat(stale.err()).contains("PRECONDITION_FAILED").contains("changed since you read it");
        assertThat(rc.count(rsuota.fleet.store.Table.AUDIT)).isEqualTo(audit);
        assertThat(rc.controller.rollouts().status(id).state()).isEqualTo("paused");
        var raw = rc.send("POST", "/api/v1/rollouts/" + id + "/rollback", rc.tokens.get(Role.OPERATOR), "application/json",
                "{\"reason\":\"A\"}", java.util.Map.of("If-Match", etag));
        assertThat(raw.statusCode()).isEqualTo(412);
        // RFC 9110 If-Match: a list of tags matches when one of them is current; * matches any existing rollout.
        String now = rc.get("/api/v1/rollouts/" + id, rc.tokens.get(Role.OPERATOR)).headers().firstValue("ETag").orElseThrow();
        var listed = rc.send("POST", "/api/v1/rollouts/" + id + "/pause", rc.tokens.get(Role.OPERATOR), "application/json",
                "{\"reason\":\"still paused\"}", java.util.Map.of("If-Match", etag + ", " + now));
        assertThat(listed.statusCode()).as(listed.body()).isIn(200, 409);
        assertThat(rc.send("POST", "/api/v1/rollouts/" + id + "/pause", rc.tokens.get(Role.OPERATOR), "application/json",
                "{\"reason\":\"x\"}", java.util.Map.of("If-Match", etag + ", \"0000000000000000\"")).statusCode()).isEqualTo(412);
        assertThat(rc.send("POST", "/api/v1/rollouts/99999/pause", rc.tokens.get(Role.OPERATOR), "application/json",
                "{\"reason\":\"x\"}", java.util.Map.of("If-Match", "*")).statusCode()).isEqualTo(404);
        // With the ETag of what A reads now, the decision goes through; without If-Match, as before, too.
        String fresh = rc.get("/api/v1/rollouts/" + id, rc.tokens.get(Role.OPERATOR)).headers().firstValue("ETag").orElseThrow();
        assertThat(fresh).isNotEqualTo(etag);
        assertThat(fleetctl(Role.OPERATOR, "--if-match", fresh, "rollout", "rollback", Long.toString(id), "--reason", "A: roll back").code()).isZero();
        assertThat(rc.controller.rollouts().status(id).state()).isEqualTo("rolling_back");
    }

    @Test
    void aRolloutsBandwidthCapReachesTheDevicesDesiredState() throws Exception {
        Run bad = fleetctl(Role.RELEASE_MANAGER, "rollout", "create", "--release", "2.4.0", "--phase", "canary:48h:manual",
                "--bandwidth-cap", "2 Mb/s");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("settings.bandwidthCap").contains("unknown unit 'Mb'");
        Run create = fleetctl(Role.RELEASE_MANAGER, "rollout", "create", "--release", "2.4.0", "--phase", "canary:48h:manual",
                "--bandwidth-cap", "2Mbit/s", "--json");
        assertThat(create.code()).as(create.err()).isZero();
        long id = create.json().get("id").asLong();
        assertThat(fleetctl(Role.RELEASE_MANAGER, "rollout", "start", Long.toString(id), "--reason", "go").code()).isZero();
        rc.controller.engine().tick(rc.clock.instant());
        String json = rc.controller.database().read(tx -> tx.desired().find("c1")).orElseThrow().payload();
        rsuota.wire.MqttDesiredState d = rsuota.wire.WireCodec.decode(json.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                rsuota.wire.MqttDesiredState.class);
        assertThat(d.bandwidthCap()).isEqualTo(250_000L);
        assertThat(fleetctl(Role.VIEWER, "rollout", "status", Long.toString(id), "--json").json().get("settings").get("bandwidthCap").asLong())
                .isEqualTo(250_000L);
    }

    @Test
    void rolloutStatusSumsTheBytesEachCohortFetchedAgainstTheManifestsPrediction() throws Exception {
        Run create = fleetctl(Role.RELEASE_MANAGER, "rollout", "create", "--release", "2.4.0", "--phase", "canary:48h:manual", "--json");
        assertThat(create.code()).as(create.err()).isZero();
        long id = create.json().get("id").asLong();
        assertThat(fleetctl(Role.RELEASE_MANAGER, "rollout", "start", Long.toString(id), "--reason", "go").code()).isZero();
        rc.controller.engine().tick(rc.clock.instant());
        JsonNode before = fleetctl(Role.VIEWER, "rollout", "status", Long.toString(id), "--json").json().get("phases").get(0).get("bytes");
        assertThat(before.get("devices").asInt()).as("nothing reported yet").isZero();
        assertThat(before.get("fetched").asLong()).isZero();

        // c1 reports its download: the verified transition carries what it fetched and what it copied
        long payload = rc.controller.releases().get("2.4.0").manifest().payloadSize();
        rc.controller.ingest().accept(List.of(DeviceMessages.event("c1", 1, "transition", "verified", "2.4.0", null,
                Map.of("slot", "B", "bytesFetched", "81234", "bytesReused", "0"))));
        JsonNode bytes = fleetctl(Role.VIEWER, "rollout", "status", Long.toString(id), "--json").json().get("phases").get(0).get("bytes");
        assertThat(bytes.get("devices").asInt()).isEqualTo(1);
        assertThat(bytes.get("fetched").asLong()).isEqualTo(81_234);
        assertThat(bytes.get("reused").asLong()).isZero();
        // c1 reported running "1.0", a release the controller does not have: the prediction is the whole payload, and says why
        assertThat(bytes.get("units").asInt()).isEqualTo(1);
        assertThat(bytes.get("unitsWithoutDelta").asInt()).isEqualTo(1);
        assertThat(bytes.has("expectedFrom")).isFalse();
        assertThat(bytes.get("expected").asLong()).isEqualTo(payload);
        assertThat(bytes.get("payloadBytes").asLong()).isEqualTo(payload);

        Run text = fleetctl(Role.VIEWER, "rollout", "show", Long.toString(id));
        assertThat(text.out()).contains("  bytes expected: " + payload + " for 1 units (1 from 1.0 x " + payload
                + " (whole payload: no such release here)), 1 without a delta")
                .contains("  bytes fetched: 81234 by 1 of 1 units, reused 0 from active slots, "
                + String.format(java.util.Locale.ROOT, "%.1f%%", 100.0 * 81_234 / payload) + " of the full payload");
        // a download of another release does not count for this one
        rc.controller.ingest().accept(List.of(DeviceMessages.event("c1", 2, "transition", "verified", "2.3.0", null,
                Map.of("bytesFetched", "5", "bytesReused", "7"))));
        assertThat(fleetctl(Role.VIEWER, "rollout", "status", Long.toString(id), "--json").json().get("phases").get(0).get("bytes")
                .get("fetched").asLong()).isEqualTo(81_234);
    }

    @Test
    void rolloutVerbsEndToEnd() throws Exception {
        Run create = fleetctl(Role.RELEASE_MANAGER, "rollout", "create", "--release", "2.4.0", "--phase", "canary:48h:manual",
                "--corridor-cap", "1", "--json");
        assertThat(create.code()).as(create.err()).isZero();
        long id = create.json().get("id").asLong();
        assertThat(create.json().get("phases").get(0).get("observation").asText()).isEqualTo("2d");
        assertThat(fleetctl(Role.OPERATOR, "rollout", "start", Long.toString(id)).code()).as("operator may not start").isEqualTo(ExitCodes.FORBIDDEN);
        assertThat(fleetctl(Role.RELEASE_MANAGER, "rollout", "start", Long.toString(id), "--reason", "go").code()).isZero();
        rc.controller.engine().tick(rc.clock.instant());

        String metrics = rc.get("/metrics", rc.tokens.get(Role.VIEWER)).body();
        assertThat(metrics).contains("rsuota_cohort_devices{release=\"2.4.0\",rollout=\"" + id + "\",phase=\"canary\",cohort=\"canary\",bucket=\"in_progress\"} 1")
                .contains("rsuota_rule_threshold_ratio{release=\"2.4.0\",rollout=\"" + id + "\",phase=\"canary\",cohort=\"canary\",rule=\"availability-below\"} 0.995")
                .contains("rsuota_cohort_availability_ratio{release=\"2.4.0\",rollout=\"" + id + "\",phase=\"canary\",cohort=\"canary\",slice=\"\"} 0.999")
                .contains("rsuota_rule_threshold_seconds{release=\"2.4.0\",rollout=\"" + id + "\",phase=\"canary\",cohort=\"canary\",rule=\"lag-p95-above\"} 10.0")
                .contains("rsuota_rollout_paused{release=\"2.4.0\",rollout=\"" + id + "\"} 0")
                .contains("rsuota_rollouts{state=\"running\"} 1");
        Run watch = fleetctl(Role.VIEWER, "rollout", "watch", Long.toString(id), "--once");
        assertThat(watch.code()).isZero();
        assertThat(watch.out()).contains("rollout " + id).contains("RUNNING").contains("phase 0 canary [active]")
                .contains("availability-below").contains("< 0.9950 ratio").contains("c1: in_progress");
        Run watchJson = fleetctl(Role.VIEWER, "rollout", "watch", Long.toString(id), "--count", "2", "--interval", "1", "--json");
        assertThat(watchJson.out().lines().count()).isEqualTo(2);

        assertThat(fleetctl(Role.OPERATOR, "rollout", "pause", Long.toString(id), "--reason", "checking a report").code()).isZero();
        Run st = fleetctl(Role.VIEWER, "rollout", "status", Long.toString(id));
        assertThat(st.out()).contains("PAUSED (event").contains("checking a report").contains("--acknowledge");
        long pause = fleetctl(Role.VIEWER, "rollout", "status", Long.toString(id), "--json").json().get("pauses").get(0).get("id").asLong();
        Run noAck = fleetctl(Role.RELEASE_MANAGER, "rollout", "resume", Long.toString(id), "--reason", "ok");
        assertThat(noAck.code()).isEqualTo(ExitCodes.REJECTED);
        assertThat(noAck.err()).contains("acknowledge");
        assertThat(fleetctl(Role.RELEASE_MANAGER, "rollout", "resume", Long.toString(id), "--reason", "ok", "--acknowledge", Long.toString(pause)).code()).isZero();
        Run adv = fleetctl(Role.RELEASE_MANAGER, "rollout", "advance", Long.toString(id));
        assertThat(adv.code()).as("gate not met yet").isEqualTo(ExitCodes.CONFLICT);
        assertThat(adv.err()).contains("GATE_NOT_MET");
        Run rb = fleetctl(Role.OPERATOR, "rollout", "rollback", Long.toString(id), "--reason", "customer complaint", "--json");
        assertThat(rb.code()).as(rb.err()).isZero();
        assertThat(rb.json().get("state").asText()).isEqualTo("rolling_back");
        assertThat(fleetctl(Role.VIEWER, "rollout", "list").out()).contains("rolling_back");
        assertThat(rc.controller.auditTrail().page(0, 1000)).extracting(a -> a.action())
                .contains("rollout.create", "rollout.start", "rollout.pause", "rollout.resume", "rollout.rollback");
    }

    @Test
    void deviceDiagAsksWaitsAndDownloads() throws Exception {
        byte[] archive = "journal, state.json, slots\n".repeat(1000).getBytes();
        HttpClient http = HttpClient.newHttpClient();
        // The simulated device: waits for its command row, then uploads in two ranged chunks.
        CompletableFuture<Void> device = CompletableFuture.runAsync(() -> {
            try {
                CommandRepository.Command cmd = null;
                for (int i = 0; i < 600 && cmd == null; i++) {
                    cmd = rc.controller.database().read(tx -> tx.commands().unpublished(rc.clock.instant(), 10)).stream().findFirst().orElse(null);
                    if (cmd == null) Thread.sleep(50);
                }
                String url = ApiClient.JSON.readTree(cmd.payload()).get("args").get("uploadUrl").asText();
                int half = archive.length / 2;
                for (int[] r : new int[][] {{0, half}, {half, archive.length}}) {
                    http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Range", "bytes " + r[0] + "-" + (r[1] - 1) + "/" + archive.length)
                            .PUT(HttpRequest.BodyPublishers.ofByteArray(java.util.Arrays.copyOfRange(archive, r[0], r[1]))).build(),
                            HttpResponse.BodyHandlers.discarding());
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Path out = dir.resolve("diag.bundle");
        Run diag = fleetctl(Role.OPERATOR, "device", "diag", "c1", "-o", out.toString(), "--wait", "60", "--interval", "1");
        device.join();
        assertThat(diag.code()).as(diag.err()).isZero();
        assertThat(diag.out()).contains("written to " + out);
        assertThat(Files.readAllBytes(out)).isEqualTo(archive);
        assertThat(fleetctl(Role.VIEWER, "device", "diag", "c1").code()).as("viewer may not ask").isEqualTo(ExitCodes.FORBIDDEN);
    }
}
