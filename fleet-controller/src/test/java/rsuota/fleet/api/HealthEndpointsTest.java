package rsuota.fleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.app.Controller;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.fixtures.pki.TestPki;

/** Liveness and readiness for a load balancer, without a token: readiness follows the store and the broker link. */
class HealthEndpointsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path dir;

    @Test
    void aliveAndReadyWithoutATokenAndNotReadyWhileTheBrokerIsDown() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.plain();
             RunningController rc = new RunningController(new TestPki(), dir, cfg -> new Controller.Config(cfg.dir(), cfg.keyring(), cfg.host(),
                     cfg.port(), new Controller.BrokerMode.External(broker.uri()), cfg.publicUrl(), cfg.tick(), cfg.links(), cfg.alertWebhook(),
                     cfg.sharedGroup()))) {
            HttpResponse<String> alive = rc.get("/healthz", null);
            assertThat(alive.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(alive.body()).get("status").asText()).isEqualTo("alive");

            JsonNode ready = awaitReady(rc, 200);
            assertThat(ready.get("store").asText()).isEqualTo("ok");
            assertThat(ready.get("broker").asText()).isEqualTo("connected");
            assertThat(ready.get("role").asText()).isEqualTo("leader");

            broker.stop();
            JsonNode down = awaitReady(rc, 503);
            assertThat(down.get("broker").asText()).isEqualTo("disconnected");
            assertThat(down.get("ready").asBoolean()).isFalse();
            assertThat(rc.get("/healthz", null).statusCode()).as("alive all the same").isEqualTo(200);

            broker.start();
            assertThat(awaitReady(rc, 200).get("ready").asBoolean()).isTrue();
        }
    }

    /** GET /readyz until it answers {@code status} (the link reconnects on its own schedule), bounded to 60 s. */
    static JsonNode awaitReady(RunningController rc, int status) throws Exception {
        long until = System.nanoTime() + 60_000_000_000L;
        HttpResponse<String> r;
        do {
            r = rc.get("/readyz", null);
            if (r.statusCode() == status) return JSON.readTree(r.body());
            Thread.sleep(200);
        } while (System.nanoTime() < until);
        throw new AssertionError("GET /readyz did not answer " + status + " within 60 s; last: " + r.statusCode() + " " + r.body());
    }
}
