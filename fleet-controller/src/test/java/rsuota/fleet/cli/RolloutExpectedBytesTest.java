package rsuota.fleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.bundle.Chunking;
import rsuota.bundle.ExpectedFetch;
import rsuota.bundle.Manifest;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.device.InventoryFormat;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.release.ReleaseCatalog;
import rsuota.fleet.rollout.Approval;
import rsuota.fleet.rollout.RolloutSettings;
import rsuota.fleet.rollout.Rollouts;
import rsuota.fleet.testing.Bundles;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.pki.TestPki;

/**
 * A phase's expected bytes are the sum over its units of what the manifests say each fetches from the release it
 * reported running when it was dispatched: units on the previous stable, on an older release, on a release the
 * controller does not have, on a format 1 release and with no release at all; the last three at the whole payload,
 * counted in unitsWithoutDelta. Read through fleetctl against the contract check (openapi.yaml), --json and text.
 */
class RolloutExpectedBytesTest {
    static final Chunking CDC = new Chunking(4096, 16384, 65536);
    static final int SIZE = 2 * 1024 * 1024;
    static final Principal ADMIN = new Principal("setup", Role.ADMIN);
    static final Principal RM = new Principal("rm", Role.RELEASE_MANAGER);
    @TempDir
    static Path work;
    static TestPki pki;
    static Path format1, older, stable, target;
    static Manifest m20, m21, m22;

    @TempDir
    Path dir;
    RunningController rc;
    int seq;

    /** 2.0.0 a 2 MiB image; 2.1.0 it with 3 % rewritten; 2.2.0 2.1.0's with another 3 % rewritten elsewhere; 1.0.0 format 1. */
    @BeforeAll
    static void bundles() throws Exception {
        pki = new TestPki();
        Path img20 = work.resolve("2.0.0.img");
        BundleBuilder.writeRandom(img20, SIZE, new Random(7));
        Path img21 = Files.write(work.resolve("2.1.0.img"), rewrite(Files.readAllBytes(img20), new Random(8), 100_000, 900_000));
        Path img22 = Files.write(work.resolve("2.2.0.img"), rewrite(Files.readAllBytes(img21), new Random(9), 500_000, 1_700_000));
        BundleBuilder b = new BundleBuilder(work).signedBy(pki, pki.signer).compatible("rsu-a1");
        format1 = b.release("1.0.0").image("rootfs", 300_000).build("1.0.0.rsub");
        older = v2("2.0.0", img20);
        stable = v2("2.1.0", img21);
        target = v2("2.2.0", img22);
        m20 = b.manifestOf(older);
        m21 = b.manifestOf(stable);
        m22 = b.manifestOf(target);
    }

    static Path v2(String version, Path image) throws Exception {
        return new BundleBuilder(work).signedBy(pki, pki.signer).compatible("rsu-a1").release(version).imageFile("rootfs", image)
                .format2(CDC).build(version + ".rsub");
    }

    static byte[] rewrite(byte[] img, Random rnd, int... at) {
        for (int a : at) {
            for (int i = 0; i < SIZE * 3 / 100 / 2; i++) img[a + i] = (byte) rnd.nextInt();
        }
        return img;
    }

    @BeforeEach
    void controller() throws Exception {
        rc = new RunningController(pki, dir);
        String previous = null;
        for (Path p : new Path[] {format1, older, stable, target}) {
            var created = rc.controller.releases().create(ADMIN, new ReleaseCatalog.NewRelease(Bundles.publish(p, rc.artifacts()), null,
                    previous, null, null));
            previous = created.version();
        }
    }

    @AfterEach
    void stop() {
        rc.close();
    }

    void reportRunning(String device, String corridor, String release) {
        assertThat(rc.controller.ingest().accept(List.of(DeviceMessages.running(device, corridor, release)))).isEqualTo(1);
    }

    void event(String device, String state) {
        assertThat(rc.controller.ingest().accept(List.of(DeviceMessages.event(device, ++seq, "transition", state, "2.2.0", null, Map.of()))))
                .isEqualTo(1);
    }

    long rollout(List<String> units, Integer corridorCap) throws Exception {
        long cohort = rc.controller.cohorts().create(ADMIN, new Cohorts.NewCohort("2.2.0", "wave1", CohortKind.WAVE, null, null, units, null))
                .cohort().id();
        long id = rc.controller.rollouts().create(RM, new Rollouts.NewRollout("2.2.0", List.of(new Rollouts.NewPhase(cohort, null, null,
                Duration.ofHours(1), Approval.MANUAL, null)), new RolloutSettings(corridorCap, Duration.ofMinutes(20), Duration.ofMinutes(30), null, null, null), null, null, "test")).id();
        rc.controller.rollouts().start(RM, id, "go");
        rc.controller.engine().tick(rc.clock.instant());
        return id;
    }

    String[] fleetctl(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--url", rc.contractUri().toString(), "--token", rc.tokens.get(Role.VIEWER)));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Fleetctl.execute(all.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        assertThat(code).as(err.toString()).isZero();
        return new String[] {out.toString(), err.toString()};
    }

    JsonNode status(long id) throws Exception {
        return ApiClient.JSON.readTree(fleetctl("rollout", "status", Long.toString(id), "--json")[0]);
    }

    JsonNode bytes(long id) throws Exception {
        return status(id).get("phases").get(0).get("bytes");
    }

    @Test
    void eachUnitCountsFromTheReleaseItRanWhenDispatchedAndUnknownPairsCountWhole() throws Exception {
        long payload = m22.payloadSize();
        long fromStable = ExpectedFetch.from(m21, m22).fetchBytes();
        long fromOlder = ExpectedFetch.from(m20, m22).fetchBytes();
        // the manifests differ as the images do: one change missing from the previous stable, two from the older one
        assertThat(fromStable).isPositive().isLessThan(fromOlder);
        assertThat(fromOlder).isLessThan(payload / 4);

        for (String d : List.of("s1", "s2")) reportRunning(d, "i-5", "2.1.0");
        reportRunning("o1", "i-5", "2.0.0");
        reportRunning("f1", "i-5", "1.0.0");
        reportRunning("x1", "i-5", "2.1.0-local"); // a technician's own build: no manifest here
        reportRunning("r1", "i-5", null); // a state naming no running release
        // a unit from the inventory that never reported a state
        rc.controller.devices().importInventory(ADMIN, "id,variant,region,corridor,site,tags\nn1,rsu-a1,north,i-5,,\n", InventoryFormat.CSV, null);
        long id = rollout(List.of("s1", "s2", "o1", "f1", "x1", "r1", "n1"), null);

        JsonNode b = bytes(id);
        assertThat(b.get("units").asInt()).isEqualTo(7);
        assertThat(b.get("unitsWithoutDelta").asInt()).isEqualTo(4);
        assertThat(b.get("expected").asLong()).isEqualTo(2 * fromStable + fromOlder + 4 * payload);
        assertThat(b.get("payloadBytes").asLong()).isEqualTo(payload);
        assertThat(b.has("expectedFrom")).as("several sources").isFalse();
        assertThat(b.get("devices").asInt()).as("nothing reported yet").isZero();
        JsonNode s = b.get("sources");
        assertThat(s).hasSize(5);
        assertSource(s.get(0), "1.0.0", 1, payload, "format_1");
        assertSource(s.get(1), "2.0.0", 1, fromOlder, null);
        assertSource(s.get(2), "2.1.0", 2, fromStable, null);
        assertSource(s.get(3), "2.1.0-local", 1, payload, "unknown_release");
        assertSource(s.get(4), null, 2, payload, "no_release");

        // each unit's view says where it comes from, so an operator finds the units counted whole
        Map<String, String> from = new java.util.TreeMap<>();
        for (JsonNode d : status(id).get("phases").get(0).get("devices")) from.put(d.get("device").asText(), d.path("fromRelease").asText("-"));
        assertThat(from).containsExactlyEntriesOf(new java.util.TreeMap<>(Map.of("f1", "1.0.0", "n1", "-", "o1", "2.0.0", "r1", "-", "s1", "2.1.0",
                "s2", "2.1.0", "x1", "2.1.0-local")));

        String text = fleetctl("rollout", "show", Long.toString(id))[0];
        assertThat(text).contains("  bytes expected: " + (2 * fromStable + fromOlder + 4 * payload) + " for 7 units (1 from 1.0.0 x " + payload
                + " (whole payload: a format 1 release); 1 from 2.0.0 x " + fromOlder + "; 2 from 2.1.0 x " + fromStable + "; 1 from 2.1.0-local x "
                + payload + " (whole payload: no such release here); 2 with no release reported x " + payload + " (whole payload)), 4 without a delta");
        assertThat(text).doesNotContain("bytes fetched");

        // s1 downloads, activates and reports running the target: it still counts from what it ran when dispatched
        rc.controller.ingest().accept(List.of(DeviceMessages.event("s1", ++seq, "transition", "verified", "2.2.0", null,
                Map.of("slot", "B", "bytesFetched", Long.toString(fromStable + 4096), "bytesReused", "2000000"))));
        event("s1", "committing");
        event("s1", "activated");
        reportRunning("s1", "i-5", "2.2.0");
        JsonNode after = bytes(id);
        assertThat(after.get("expected").asLong()).isEqualTo(b.get("expected").asLong());
        assertThat(after.get("sources")).isEqualTo(s);
        assertThat(after.get("devices").asInt()).isEqualTo(1);
        assertThat(after.get("fetched").asLong()).isEqualTo(fromStable + 4096);
        assertThat(fleetctl("rollout", "show", Long.toString(id))[0])
                .contains("  bytes fetched: " + (fromStable + 4096) + " by 1 of 7 units, reused 2000000 from active slots, ");
    }

    @Test
    void aQueuedUnitCountsFromWhatItRunsWhenItIsDispatched() throws Exception {
        long fromStable = ExpectedFetch.from(m21, m22).fetchBytes();
        long fromOlder = ExpectedFetch.from(m20, m22).fetchBytes();
        reportRunning("a1", "i-9", "2.1.0");
        reportRunning("q1", "i-9", "2.0.0");
        // one unit of corridor i-9 in trial at a time: a1 goes first, q1 waits queued
        long id = rollout(List.of("a1", "q1"), 1);
        JsonNode queued = bytes(id);
        assertThat(queued.get("expected").asLong()).as("q1 as it ran when the phase opened").isEqualTo(fromStable + fromOlder);

        // while q1 waits, a technician brings it to 2.1.0; a1 settles, so q1 is dispatched from 2.1.0
        reportRunning("q1", "i-9", "2.1.0");
        event("a1", "committing");
        event("a1", "activated");
        assertThat(rc.controller.engine().tick(rc.clock.instant()).dispatched()).isEqualTo(1);
        JsonNode b = bytes(id);
        assertThat(b.get("expected").asLong()).isEqualTo(2 * fromStable);
        assertThat(b.get("unitsWithoutDelta").asInt()).isZero();
        assertThat(b.get("expectedFrom").asText()).as("every unit from the previous stable").isEqualTo("2.1.0");
        assertThat(b.get("sources")).hasSize(1);
        assertSource(b.get("sources").get(0), "2.1.0", 2, fromStable, null);
    }

    static void assertSource(JsonNode s, String from, int units, long perUnit, String withoutDelta) {
        if (from == null) assertThat(s.has("from")).as(s.toString()).isFalse();
        else assertThat(s.get("from").asText()).as(s.toString()).isEqualTo(from);
        assertThat(s.get("units").asInt()).as(s.toString()).isEqualTo(units);
        assertThat(s.get("bytesPerUnit").asLong()).as(s.toString()).isEqualTo(perUnit);
        if (withoutDelta == null) assertThat(s.has("withoutDelta")).as(s.toString()).isFalse();
        else assertThat(s.get("withoutDelta").asText()).as(s.toString()).isEqualTo(withoutDelta);
    }
}
