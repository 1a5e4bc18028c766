package rsuota.fleet.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.app.Controller;
import rsuota.fleet.cli.Fleetctl;
import rsuota.fleet.domain.AuditEntry;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/**
 * What the hash chain alone cannot show, a signed checkpoint kept elsewhere can: a deleted tail, a
 * chain recomputed by whoever can write the database, and a forged checkpoint, each named; at start
 * the controller holds its newest checkpoint against the chain and raises an alert on a mismatch.
 */
class AuditCheckpointTest {
    @TempDir
    Path dir;
    RunningController rc;
    static final Principal ADMIN = new Principal("admin", Role.ADMIN);
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeEach
    void fiveEntries() throws Exception {
        rc = new RunningController(new TestPki(), dir);
        for (int i = 1; i <= 5; i++) rc.controller.tokens().create(ADMIN, Role.VIEWER, "t" + i, "entry " + i);
    }

    @AfterEach
    void stop() {
        if (rc != null) rc.close();
    }

    void sql(String statement) throws Exception {
        rc.controller.database().write(tx -> {
            try (var st = tx.connection().createStatement()) {
                st.executeUpdate(statement);
            }
            return null;
        });
    }

    AuditCheckpoints.Result verifyOverRest(AuditCheckpoints.Checkpoint c) throws Exception {
        HttpResponse<String> r = rc.postJson("/api/v1/audit/checkpoint/verify", rc.tokens.get(Role.VIEWER), c.json());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode n = JSON.readTree(r.body());
        return new AuditCheckpoints.Result(n.get("ok").asBoolean(), n.path("problem").asText(null), n.get("entries").asLong(), c);
    }

    @Test
    void anIntactChainHoldsItsCheckpointAndTheKeyIsServed() throws Exception {
        AuditCheckpoints.Checkpoint c = rc.controller.checkpoints().take();
        long entries = rc.controller.auditTrail().verify().entries();
        assertThat(c.seq()).isEqualTo(entries);
        assertThat(verifyOverRest(c).ok()).isTrue();
        JsonNode served = JSON.readTree(rc.get("/api/v1/audit/checkpoint", rc.tokens.get(Role.VIEWER)).body());
        assertThat(served.at("/checkpoint/seq").asLong()).isEqualTo(c.seq());
        assertThat(served.get("publicKey").asText()).startsWith("-----BEGIN PUBLIC KEY-----");
        assertThat(Files.readString(dir.resolve("data/audit-checkpoints.jsonl"))).contains(c.sig());
        assertThat(Files.getPosixFilePermissions(dir.resolve("data/audit-signing.key")))
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void eachCheckpointIsPostedToTheWebhookOutsideTheHost() throws Exception {
        java.util.concurrent.BlockingQueue<String> received = new java.util.concurrent.LinkedBlockingQueue<>();
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 4);
        server.createContext("/checkpoints", ex -> {
            received.add(new String(ex.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        server.start();
        try {
            rc.controller.checkpoints().sink(CheckpointWebhook.to(java.net.URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/checkpoints")));
            AuditCheckpoints.Checkpoint c = rc.controller.checkpoints().take();
            assertThat(received.poll(20, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(c.json());
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aDeletedTailVerifiesAsAChainButNotAgainstTheCheckpoint() throws Exception {
        AuditCheckpoints.Checkpoint c = rc.controller.checkpoints().take();
        sql("DELETE FROM audit WHERE seq > " + (c.seq() - 2));
        assertThat(rc.controller.auditTrail().verify().ok()).as("the chain alone cannot tell").isTrue();
        AuditCheckpoints.Result r = verifyOverRest(c);
        assertThat(r.ok()).isFalse();
        assertThat(r.problem()).contains("truncated").contains("2 newest entries deleted");

        // fleetctl names it and exits 11 (the audit-broken code).
        Path file = dir.resolve("kept.jsonl");
        Files.writeString(file, "{\"v\":1,\"seq\":1,\"hash\":\"x\",\"at\":\"2026-01-01T00:00:00Z\",\"sig\":\"AA==\"}\n" + c.json() + "\n");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Fleetctl.execute(new String[] {"--url", rc.contractUri().toString(), "--token", rc.tokens.get(Role.VIEWER), "audit", "verify",
                "--checkpoint", file.toString()}, new PrintWriter(out), new PrintWriter(err));
        assertThat(code).isEqualTo(rsuota.fleet.cli.ExitCodes.AUDIT_BROKEN);
        assertThat(err.toString()).contains("truncated");
    }

    @Test
    void aChainRecomputedFromSomeEntryIsCalledRewritten() throws Exception {
        AuditCheckpoints.Checkpoint c = rc.controller.checkpoints().take();
        // The insider edits entry 3's reason and recomputes every hash after it: the chain verifies again.
        List<AuditEntry> all = rc.controller.auditTrail().page(0, 1000);
        String prev = all.get(1).hash();
        for (AuditEntry e : all.subList(2, all.size())) {
            AuditEntry edited = new AuditEntry(e.seq(), e.at(), e.actor(), e.role(), e.action(), e.target(),
                    e.seq() == 3 ? "nothing to see" : e.reason(), e.detail(), prev, null);
            String h = AuditChain.hash(prev, edited);
            sql("UPDATE audit SET reason = " + (edited.reason() == null ? "NULL" : "'" + edited.reason() + "'") + ", prev_hash = '" + prev
                    + "', hash = '" + h + "' WHERE seq = " + e.seq());
            prev = h;
        }
        assertThat(rc.controller.auditTrail().verify().ok()).as("the rewritten chain verifies on its own").isTrue();
        AuditCheckpoints.Result r = verifyOverRest(c);
        assertThat(r.ok()).isFalse();
        assertThat(r.problem()).contains("rewritten").contains("entry " + c.seq());
    }

    @Test
    void aForgedOrAlteredCheckpointIsRefusedAsNotThisControllers() throws Exception {
        AuditCheckpoints.Checkpoint c = rc.controller.checkpoints().take();
        AuditCheckpoints.Checkpoint lower = new AuditCheckpoints.Checkpoint(c.seq() - 1, c.hash(), c.at(), c.sig());
        assertThat(verifyOverRest(lower).problem()).contains("signature is not this controller's");
        HttpResponse<String> junk = rc.postJson("/api/v1/audit/checkpoint/verify", rc.tokens.get(Role.VIEWER), "{\"v\":1}");
        assertThat(junk.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(junk.body()).get("field").asText()).isEqualTo("checkpoint");
    }

    @Test
    void aRolloutDecisionOrTheIntervalTakesACheckpointAndNothingNewTakesNone() throws Exception {
        AuditCheckpoints cp = rc.controller.checkpoints();
        AuditCheckpoints.Checkpoint first = cp.takeIfDue();
        assertThat(first).as("the first one is due at once").isNotNull();
        assertThat(cp.takeIfDue()).as("nothing new").isNull();
        rc.controller.tokens().create(ADMIN, Role.VIEWER, "t6", null);
        assertThat(cp.takeIfDue()).as("new entries, interval not passed, no rollout decision").isNull();
        rc.clock.advance(AuditCheckpoints.DEFAULT_INTERVAL);
        assertThat(cp.takeIfDue()).as("the interval passed").isNotNull();
        rc.controller.database().write(tx -> new AuditLog(rc.clock).append(tx, ADMIN, "rollout.pause", "rollout:1", "test", java.util.Map.of()));
        assertThat(cp.takeIfDue()).as("a rollout decision takes one at once").isNotNull();
    }

    @Test
    void aTornLastCheckpointLineIsSkippedForTheOneBeforeItAndTheControllerStarts() throws Exception {
        AuditCheckpoints.Checkpoint c = rc.controller.checkpoints().take();
        sql("DELETE FROM audit WHERE seq = " + c.seq());
        rc.controller.close();
        // A power cut in the middle of the next append: half a line, and bytes that are not UTF-8.
        Files.write(dir.resolve("data/audit-checkpoints.jsonl"), new byte[] {'{', '"', 'v', '"', ':', (byte) 0xC3, (byte) 0x28},
                java.nio.file.StandardOpenOption.APPEND);
        Controller again = Controller.open(new Controller.Config(rc.dataDir, null, "127.0.0.1", 0), rc.clock);
        try {
            assertThat(again.checkpoints().newest()).isEqualTo(c);
            var alerts = again.database().read(tx -> new rsuota.fleet.rollout.AlertRepository(tx).undelivered());
            assertThat(alerts).anySatisfy(a -> assertThat(a.kind()).isEqualTo("audit_mismatch"));
        } finally {
            again.close();
            rc = null;
        }
    }

    @Test
    void atStartTheNewestCheckpointIsHeldAgainstTheChainAndAMismatchRaisesAnAlert() throws Exception {
        AuditCheckpoints.Checkpoint c = rc.controller.checkpoints().take();
        sql("DELETE FROM audit WHERE seq = " + c.seq());
        rc.controller.close();
        Controller again = Controller.open(new Controller.Config(rc.dataDir, null, "127.0.0.1", 0), rc.clock);
        try {
            var alerts = again.database().read(tx -> new rsuota.fleet.rollout.AlertRepository(tx).undelivered());
            assertThat(alerts).anySatisfy(a -> {
                assertThat(a.kind()).isEqualTo("audit_mismatch");
                assertThat(a.detail().get("problem").toString()).contains("truncated");
            });
        } finally {
            again.close();
            rc = null;
        }
    }
}
