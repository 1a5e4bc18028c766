package rsuota.fleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.bundle.Chunking;
import rsuota.bundle.ExpectedFetch;
import rsuota.bundle.Manifest;
import rsuota.fleet.domain.Role;
import rsuota.fleet.testing.Bundles;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.pki.TestPki;

/**
 * A release records, per earlier release, the bytes a unit running it fetches (from the manifests):
 * shown by {@code GET /releases/{version}} (held to openapi.yaml) and by {@code fleetctl release show}.
 */
class ReleaseTransferTest {
    static final Chunking CDC = new Chunking(4096, 16384, 65536);
    static final int SIZE = 2 * 1024 * 1024;
    @TempDir
    static Path dir;
    static RunningController rc;
    static Manifest v1, v2, full;

    @BeforeAll
    static void releases() throws Exception {
        TestPki pki = new TestPki();
        rc = new RunningController(pki, Files.createDirectories(dir.resolve("ctl")));
        Path work = Files.createDirectories(dir.resolve("work"));
        // 2.0.0: a 2 MiB image; 2.1.0: the same image with 3 % of it rewritten in three places
        Path oldImg = work.resolve("old.img");
        BundleBuilder.writeRandom(oldImg, SIZE, new Random(7));
        byte[] img = Files.readAllBytes(oldImg);
        Random rnd = new Random(8);
        for (int at : new int[] {100_000, 900_000, 1_700_000}) {
            for (int i = 0; i < SIZE * 3 / 100 / 3; i++) img[at + i] = (byte) rnd.nextInt();
        }
        Path newImg = Files.write(work.resolve("new.img"), img);
        BundleBuilder b = new BundleBuilder(work).signedBy(pki, pki.signer).compatible("rsu-a1");
        Path first = b.release("1.0.0").image("rootfs", 300_000).build("full.rsub"); // format 1, unrelated image
        Path older = new BundleBuilder(work).signedBy(pki, pki.signer).compatible("rsu-a1").release("2.0.0")
                .imageFile("rootfs", oldImg).format2(CDC).build("v1.rsub");
        Path newer = new BundleBuilder(work).signedBy(pki, pki.signer).compatible("rsu-a1").release("2.1.0")
                .imageFile("rootfs", newImg).format2(CDC).build("v2.rsub");
        full = b.manifestOf(first);
        v1 = b.manifestOf(older);
        v2 = b.manifestOf(newer);
        String admin = rc.adminToken;
        for (Path p : new Path[] {first, older, newer}) {
            var r = rc.postJson("/api/v1/releases", admin, "{\"bundle\":\"" + Bundles.publish(p, rc.artifacts()) + "\"}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        }
    }

    @AfterAll
    static void stop() {
        if (rc != null) rc.close();
    }

    @Test
    void theRestViewCarriesTheBytesFetchedFromEachEarlierRelease() throws Exception {
        var r = rc.get("/api/v1/releases/2.1.0", rc.tokens.get(Role.VIEWER));
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode n = ApiClient.JSON.readTree(r.body());
        assertThat(n.get("format").asInt()).isEqualTo(2);
        assertThat(n.get("payloadBytes").asLong()).isEqualTo(v2.payloadSize());
        assertThat(n.get("imageBytes").asLong()).isEqualTo(SIZE);
        JsonNode exp = n.get("expectedBytes");
        assertThat(exp).hasSize(2);
        assertThat(exp.get(0).get("from").asText()).isEqualTo("1.0.0");
        assertThat(exp.get(1).get("from").asText()).isEqualTo("2.0.0");
        // nothing of 1.0.0's random image is in 2.1.0: the whole compressed payload
        assertThat(exp.get(0).get("bytes").asLong()).isEqualTo(v2.payloadSize());
        // from 2.0.0 only the changed chunks: the agent's own rule, and well under a fifth of the image
        long delta = exp.get(1).get("bytes").asLong();
        assertThat(delta).isEqualTo(ExpectedFetch.from(v1, v2).fetchBytes()).isPositive().isLessThan(SIZE / 5);

        // the first release has no earlier one; a format 1 release is fetched whole
        JsonNode first = ApiClient.JSON.readTree(rc.get("/api/v1/releases/1.0.0", rc.tokens.get(Role.VIEWER)).body());
        assertThat(first.get("format").asInt()).isEqualTo(1);
        assertThat(first.get("expectedBytes")).isEmpty();
        assertThat(first.get("payloadBytes").asLong()).isEqualTo(full.payloadSize());
        // the list stays light: no manifests, no byte counts
        JsonNode list = ApiClient.JSON.readTree(rc.get("/api/v1/releases", rc.tokens.get(Role.VIEWER)).body());
        assertThat(list.get("releases").get(0).has("expectedBytes")).isFalse();
    }

    @Test
    void fleetctlReleaseShowPrintsTheExpectedBytesPerEarlierRelease() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Fleetctl.execute(new String[] {"--url", rc.contractUri().toString(), "--token", rc.tokens.get(Role.VIEWER),
                "release", "show", "2.1.0"}, new PrintWriter(out), new PrintWriter(err));
        assertThat(code).as(err.toString()).isZero();
        long delta = ExpectedFetch.from(v1, v2).fetchBytes();
        assertThat(out.toString())
                .contains("format: 2, payload " + v2.payloadSize() + " bytes, image " + SIZE + " bytes")
                .contains("expected fetch from 1.0.0: " + v2.payloadSize() + " bytes (100.0% of the payload)")
                .contains("expected fetch from 2.0.0: " + delta + " bytes (");
    }
}
