package rsuota.fleet.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import rsuota.fleet.app.Controller;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.release.ReleaseCatalog;
import rsuota.fleet.rollout.Approval;
import rsuota.fleet.rollout.Rollouts;
import rsuota.fleet.store.DeviceEventRepository;
import rsuota.fleet.testing.Bundles;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.fixtures.pki.TestPki;
import rsuota.wire.Action;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;

/**
 * The controller against real brokers (HiveMQ CE embedded in its JVM, and the Debian Mosquitto on
 * a free loopback port) with a simulated device speaking MQTT 5: it registers from its state,
 * events are stored once per seq with the gap noticed, malformed input is refused without harm,
 * and a rollout's retained desired state reaches the device.
 */
class ControllerAgainstBrokerTest {
    @TempDir
    Path dir;

    enum Kind { EMBEDDED_HIVEMQ, MOSQUITTO }

    static Stream<Arguments> brokers() {
        return Stream.of(Arguments.of(Kind.EMBEDDED_HIVEMQ), Arguments.of(Kind.MOSQUITTO));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokers")
    void stateEventsDedupBySeqAndDesiredStateRoundTrip(Kind kind) throws Exception {
        TestPki pki = new TestPki();
        MosquittoBroker mosquitto = kind == Kind.MOSQUITTO ? MosquittoBroker.plain() : null;
        Controller.BrokerMode mode = mosquitto != null ? new Controller.BrokerMode.External(mosquitto.uri())
                : new Controller.BrokerMode.Embedded("127.0.0.1", freePort());
        try (RunningController rc = new RunningController(pki, dir, cfg -> new Controller.Config(cfg.dir(), cfg.keyring(), cfg.host(), cfg.port(),
                mode, null, null, cfg.links(), null, null))) {
            Controller c = rc.controller;
            await().atMost(Duration.ofSeconds(30)).until(() -> c.link().connected());
            BlockingQueue<String> desired = new LinkedBlockingQueue<>();
            MqttAsyncClient dev = device(c.brokerUri(), "rsu-0001", desired);
            dev.subscribe(new MqttSubscription(Topics.desired("rsu-0001"), 1)).waitForCompletion(10_000);

            publish(dev, DeviceMessages.state("rsu-0001", "rsu-a1", "i-5", "idle", null, 0, DeviceMessages.GOOD), true);
            await().atMost(Duration.ofSeconds(20)).until(() -> c.devices().list().stream().anyMatch(d -> d.id().equals("rsu-0001")));
            assertThat(c.devices().get("rsu-0001").record().corridor()).isEqualTo("i-5");
            assertThat(c.devices().get("rsu-0001").reportedState()).contains("\"availability\":0.999");

            // seq 1, 2, 2 again (a re-send after a lost PUBACK), then 5: a gap of two.
            for (long s : new long[] {1, 2, 2, 5}) {
                publish(dev, DeviceMessages.event("rsu-0001", s, "transition", "downloading", "2.4.0", null, Map.of()), false);
            }
            publish(dev, new TelemetryIngest.Message(Topics.events("rsu-0001"), "{\"schema\":\"rsu.event/1\",\"seq\":\"x\"".getBytes(StandardCharsets.UTF_8)), false);
            publish(dev, new TelemetryIngest.Message(Topics.events("rsu-0001"),
                    WireCodec.encode(new rsuota.wire.MqttEvent(rsuota.wire.MqttEvent.SCHEMA, "rsu-0002", 9, null, "transition", "downloading", null, null, null))), false);
            await().atMost(Duration.ofSeconds(20)).until(() -> c.ingest().refusals().values().stream().mapToLong(Long::longValue).sum() >= 2
                    && c.ingest().counters().get("duplicates") >= 1 && c.ingest().counters().get("events") >= 3);
            DeviceEventRepository.Link link = c.database().read(tx -> tx.events().link("rsu-0001")).orElseThrow();
            assertThat(link.events()).isEqualTo(3);
            assertThat(link.duplicates()).isEqualTo(1);
            assertThat(link.gaps()).isEqualTo(2);
            assertThat(link.maxSeq()).isEqualTo(5);
            List<DeviceEventRepository.StoredEvent> stored = c.database().read(tx -> tx.events().events("rsu-0001", 0, 100));
            assertThat(stored).extracting(DeviceEventRepository.StoredEvent::seq).containsExactly(1L, 2L, 5L);
            assertThat(c.ingest().refusals()).containsEntry(TelemetryIngest.Refusal.MALFORMED, 1L).containsEntry(TelemetryIngest.Refusal.DEVICE_MISMATCH, 1L);
            publish(dev, DeviceMessages.presence("rsu-0001", "offline"), true);
            await().atMost(Duration.ofSeconds(20)).until(() -> "offline".equals(c.database().read(tx -> tx.events().link("rsu-0001")).orElseThrow().presence()));

            // A rollout dispatch reaches the device as a retained desired state.
            Principal rm = new Principal("rm", Role.ADMIN);
            c.releases().create(rm, new ReleaseCatalog.NewRelease(Bundles.publish(Bundles.build(pki, dir.resolve("w"), "2.4.0", "rsu-a1"), rc.artifacts()),
                    null, null, null, null));
            long cohort = c.cohorts().create(rm, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, List.of("rsu-0001"), null)).cohort().id();
            long id = c.rollouts().create(rm, new Rollouts.NewRollout("2.4.0", List.of(new Rollouts.NewPhase(cohort, null, null, Duration.ofHours(1),
                    Approval.MANUAL, null)), null, null, null, null)).id();
            c.rollouts().start(rm, id, null);
            c.engine().tick(rc.clock.instant());
            String json = desired.poll(20, TimeUnit.SECONDS);
            assertThat(json).as("desired state delivered").isNotNull();
            MqttDesiredState d = WireCodec.decode(json.getBytes(StandardCharsets.UTF_8), MqttDesiredState.class);
            assertThat(d.action()).isEqualTo(Action.ACTIVATE);
            assertThat(d.rev()).isEqualTo(1);
            await().atMost(Duration.ofSeconds(20)).until(() -> !c.database().read(tx -> tx.desired().find("rsu-0001")).orElseThrow().pending());
            dev.disconnect().waitForCompletion(5000);
            dev.close();
        } finally {
            if (mosquitto != null) mosquitto.close();
        }
    }

    static MqttAsyncClient device(String uri, String id, BlockingQueue<String> received) throws Exception {
        MqttAsyncClient c = new MqttAsyncClient(uri, id, new MemoryPersistence());
        c.setCallback(new org.eclipse.paho.mqttv5.client.MqttCallback() {
            public void disconnected(org.eclipse.paho.mqttv5.client.MqttDisconnectResponse r) { }
            public void mqttErrorOccurred(org.eclipse.paho.mqttv5.common.MqttException e) { }
            public void messageArrived(String topic, MqttMessage m) {
                received.add(new String(m.getPayload(), StandardCharsets.UTF_8));
            }
            public void deliveryComplete(org.eclipse.paho.mqttv5.client.IMqttToken t) { }
            public void connectComplete(boolean reconnect, String uri) { }
            public void authPacketArrived(int code, org.eclipse.paho.mqttv5.common.packet.MqttProperties p) { }
        });
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        c.connect(o).waitForCompletion(10_000);
        return c;
    }

    static void publish(MqttAsyncClient c, TelemetryIngest.Message m, boolean retained) throws Exception {
        MqttMessage msg = new MqttMessage(m.payload());
        msg.setQos(1);
        msg.setRetained(retained);
        c.publish(m.topic(), msg).waitForCompletion(10_000);
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
