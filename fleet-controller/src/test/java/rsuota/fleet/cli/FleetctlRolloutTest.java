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
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.release.ReleaseCatalog;
import rsuota.fleet.store.CommandRepository;
import rsuota.fleet.testing.Bundles;
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
        Principal admin = new Principal("setup", Role.ADMIN);
        rc.controller.releases().create(admin, new ReleaseCatalog.NewRelease(Bundles.publish(Bundles.build(pki, dir.resolve("w"), "2.3.0", "rsu-a1"),
                rc.artifacts()), null, null, null, null));
        rc.controller.releases().create(admin, new ReleaseCatalog.NewRelease(Bundles.publish(Bundles.build(pki, dir.resolve("w"), "2.4.0", "rsu-a1"),
                rc.artifacts()), null, "2.3.0", null, null));
        rc.controller.ingest().accept(List.of(DeviceMessages.state("c1", "rsu-a1", "i-5", "idle", null, 0, DeviceMessages.GOOD)));
        rc.controller.cohorts().create(admin, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, List.of("c1"), null));
    }

    @AfterEach
    void stop() {
        rc.close();
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
        assertThat(metrics).contains("rsuota_cohort_devices{release=\"2.4.0\",rollout=\"" + id + "\",cohort=\"canary\",bucket=\"in_progress\"} 1")
                .contains("rsuota_cohort_kpi_threshold{release=\"2.4.0\",rollout=\"" + id + "\",cohort=\"canary\",rule=\"availability-below\"} 0.995")
                .contains("rsuota_cohort_kpi{release=\"2.4.0\",rollout=\"" + id + "\",cohort=\"canary\",rule=\"availability-below\"} 0.999")
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
