package rsuota.fleet.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.app.Controller;
import rsuota.fleet.link.TelemetryIngest;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.fixtures.pg.PostgresServer;
import rsuota.fixtures.pki.TestPki;

/**
 * PostgreSQL restarted while devices report through a real Mosquitto: /readyz says the store is
 * unreachable while it is down, the controller reconnects by itself, and every report sent is stored.
 */
class StoreOutageTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int DEVICES = 300;
    @TempDir
    Path dir;

    @Test
    void aPostgresRestartUnderLoadIsSurvivedWithNothingLostAndReadinessFollowsIt() throws Exception {
        try (PostgresServer pg = PostgresServer.start();
             MosquittoBroker broker = MosquittoBroker.plain();
             RunningController rc = new RunningController(new TestPki(), dir, cfg -> new Controller.Config(cfg.dir(), cfg.keyring(), cfg.host(),
                     cfg.port(), new Controller.BrokerMode.External(broker.uri()), cfg.publicUrl(), cfg.tick(), cfg.links(), cfg.alertWebhook(),
                     cfg.sharedGroup()), new StoreSpec.Postgres(PostgresLocation.parse(pg.url(pg.createDatabase("outage"))), pg.password()))) {
            JsonNode ready = awaitReady(rc, 200);
            assertThat(ready.get("store").asText()).isEqualTo("ok");

            MqttAsyncClient dev = new MqttAsyncClient(broker.uri(), "fleet-sim", new MemoryPersistence());
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setCleanStart(true);
            dev.connect(o).waitForCompletion(10_000);
            int third = DEVICES / 3;
            send(dev, 0, third);
            await().atMost(Duration.ofSeconds(30)).until(() -> storedDevices(rc) == third);

            pg.stop();
            // Reports keep coming while the store is down: the ingest holds them (and the broker the rest).
            send(dev, third, 2 * third);
            JsonNode down = awaitReady(rc, 503);
            assertThat(down.get("store").asText()).startsWith("unreachable");
            assertThat(down.get("broker").asText()).isEqualTo("connected");

            pg.startAgain();
            assertThat(awaitReady(rc, 200).get("store").asText()).isEqualTo("ok");
            send(dev, 2 * third, DEVICES);
            await().atMost(Duration.ofSeconds(60)).until(() -> storedDevices(rc) == DEVICES);
            assertThat(rc.controller.ingest().refusals().values().stream().mapToLong(Long::longValue).sum()).as("refused reports").isZero();
            dev.disconnect().waitForCompletion(5000);
            dev.close();
        }
    }

    static void send(MqttAsyncClient dev, int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            TelemetryIngest.Message m = DeviceMessages.state(String.format("rsu-%04d", i), "rsu-a1", "i-5", "idle", null, 0, DeviceMessages.GOOD);
            MqttMessage msg = new MqttMessage(m.payload());
            msg.setQos(1);
            // A device respects the broker's receive maximum: Paho counts a publish as in flight until it
            // has processed the PUBACK, which can trail the token's completion on a loaded machine.
            for (int attempt = 0; ; attempt++) {
                try {
                    dev.publish(m.topic(), msg).waitForCompletion(10_000);
                    break;
                } catch (org.eclipse.paho.mqttv5.common.MqttException e) {
                    if (e.getReasonCode() != org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_MAX_INFLIGHT || attempt == 200) throw e;
                    Thread.sleep(25);
                }
            }
        }
    }

    /** Devices in the store, or -1 while it cannot be read. */
    static long storedDevices(RunningController rc) {
        try {
            return rc.controller.database().read(tx -> tx.count(Table.DEVICES));
        } catch (rsuota.fleet.domain.FleetException e) {
            return -1;
        }
    }

    static JsonNode awaitReady(RunningController rc, int status) throws Exception {
        HttpResponse<String>[] last = new HttpResponse[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            last[0] = rc.get("/readyz", null);
            return last[0].statusCode() == status;
        });
        return JSON.readTree(last[0].body());
    }
}
