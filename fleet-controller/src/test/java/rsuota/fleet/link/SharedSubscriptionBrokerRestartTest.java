package rsuota.fleet.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.app.Controller;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.release.ReleaseCatalog;
import rsuota.fleet.rollout.Approval;
import rsuota.fleet.rollout.Rollouts;
import rsuota.fleet.testing.Bundles;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.fixtures.pki.TestPki;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;

/**
 * The broker restarted under a controller that reads device traffic through an MQTT 5 shared
 * subscription ({@code --shared-group}): the subscription resumes (a unit's report after the
 * restart is ingested), and the retained desired state survives for a unit that subscribes again
 * (the broker keeps nothing here: the controller re-publishes every desired state on reconnect).
 */
class SharedSubscriptionBrokerRestartTest {
    @TempDir
    Path dir;

    @Test
    void aBrokerRestartLosesNeitherTheSharedSubscriptionNorTheRetainedDesiredState() throws Exception {
        TestPki pki = new TestPki();
        try (MosquittoBroker broker = MosquittoBroker.plain();
             RunningController rc = new RunningController(pki, dir, cfg -> new Controller.Config(cfg.dir(), cfg.keyring(), cfg.host(), cfg.port(),
                     new Controller.BrokerMode.External(broker.uri()), null, null, cfg.links(), null, "replicas"))) {
            Controller c = rc.controller;
            await().atMost(Duration.ofSeconds(30)).until(() -> c.link().connected());
            BlockingQueue<String> desired = new LinkedBlockingQueue<>();
            MqttAsyncClient dev = ControllerAgainstBrokerTest.device(broker.uri(), "rsu-0001", desired);
            dev.subscribe(new MqttSubscription(Topics.desired("rsu-0001"), 1)).waitForCompletion(10_000);
            ControllerAgainstBrokerTest.publish(dev, DeviceMessages.state("rsu-0001", "rsu-a1", "i-5", "idle", null, 0, DeviceMessages.GOOD), true);
            await().atMost(Duration.ofSeconds(20)).until(() -> c.devices().list().stream().anyMatch(d -> d.id().equals("rsu-0001")));

            Principal rm = new Principal("rm", Role.ADMIN);
            c.releases().create(rm, new ReleaseCatalog.NewRelease(Bundles.publish(Bundles.build(pki, dir.resolve("w"), "2.4.0", "rsu-a1"), rc.artifacts()),
                    null, null, null, null));
            long cohort = c.cohorts().create(rm, new Cohorts.NewCohort("2.4.0", "canary", CohortKind.CANARY, null, null, List.of("rsu-0001"), null)).cohort().id();
            long id = c.rollouts().create(rm, new Rollouts.NewRollout("2.4.0", List.of(new Rollouts.NewPhase(cohort, null, null, Duration.ofHours(1),
                    Approval.MANUAL, null)), null, null, null, null)).id();
            c.rollouts().start(rm, id, null);
            c.engine().tick(rc.clock.instant());
            assertThat(desired.poll(20, TimeUnit.SECONDS)).as("desired state before the restart").isNotNull();
            dev.disconnect().waitForCompletion(5000);
            dev.close();

            broker.restart(); // no persistence: the broker comes back empty
            await().atMost(Duration.ofSeconds(60)).until(() -> c.link().connected());

            BlockingQueue<String> again = new LinkedBlockingQueue<>();
            MqttAsyncClient back = ControllerAgainstBrokerTest.device(broker.uri(), "rsu-0001", again);
            back.subscribe(new MqttSubscription(Topics.desired("rsu-0001"), 1)).waitForCompletion(10_000);
            String json = again.poll(30, TimeUnit.SECONDS);
            assertThat(json).as("the retained desired state survived the restart").isNotNull();
            MqttDesiredState d = WireCodec.decode(json.getBytes(StandardCharsets.UTF_8), MqttDesiredState.class);
            assertThat(d.rev()).isEqualTo(1);
            assertThat(d.release()).isEqualTo("2.4.0");

            long presences = c.ingest().counters().get("presence");
            ControllerAgainstBrokerTest.publish(back, DeviceMessages.presence("rsu-0001", "online"), true);
            await("the shared subscription resumed").atMost(Duration.ofSeconds(20))
                    .until(() -> c.ingest().counters().get("presence") > presences);
            back.disconnect().waitForCompletion(5000);
            back.close();
        }
    }
}
