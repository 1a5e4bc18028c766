package rsuota.agent.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.fixtures.mqtt.MqttPki;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.Topics;

/**
 * TLS with client certificates and the per-device ACL of a real Mosquitto: a device can use its
 * own topics only. What it publishes on another device's topics is refused by the broker, never
 * reaches a subscriber there, and never reaches the other device's reconciler.
 */
class DeviceConfinedToItsOwnTopicsTest {

    static final Backoff FAST = new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), 2.0, 0.5);

    @TempDir
    Path tmp;

    private static TlsFiles tls(MqttPki.ClientFiles f) {
        return new TlsFiles(f.caCert(), f.cert(), f.key());
    }

    /**
     * Publishes until the broker decides: a transient failure (the connection dropped around the
     * publish) is retried, as the outbox would. Returns the final failure.
     */
    private static AgentException refusal(PahoMqttLink link, String topic, byte[] payload, boolean retained) throws Exception {
        for (int attempt = 0; attempt < 10; attempt++) {
            await().atMost(15, TimeUnit.SECONDS).until(link::isConnected);
            CompletableFuture<Void> f = link.publish(topic, payload, retained);
            Throwable t = f.handle((v, e) -> e).get(10, TimeUnit.SECONDS);
            assertThat(t).as("publish to %s should have been refused", topic).isNotNull();
            AgentException e = AgentException.in(t, AgentError.CLIENT_ERROR);
            if (!e.isTransient()) return e;
        }
        throw new AssertionError("no decision from the broker for " + topic);
    }

    @Test
    void aDeviceCannotPublishOnAnotherDevicesTopicsAndNothingItSendsThereIsActedOn() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.tls("controller")) {
            MqttPki pki = broker.pki();
            PahoMqttLink controller = new PahoMqttLink(LinkConfig.controller(broker.uri(), "controller")
                    .withTls(tls(pki.client("controller"))).withBackoff(FAST), Clock.systemUTC());
            List<String> seenAtB = new CopyOnWriteArrayList<>();
            controller.subscribe(Topics.PREFIX + "dev-b/#", (t, p, r) -> seenAtB.add(t + " " + new String(p, StandardCharsets.UTF_8)));
            PahoMqttLink devA = new PahoMqttLink(LinkConfig.device(broker.uri(), "dev-a").withTls(tls(pki.client("dev-a"))).withBackoff(FAST), Clock.systemUTC());
            PahoMqttLink devB = new PahoMqttLink(LinkConfig.device(broker.uri(), "dev-b").withTls(tls(pki.client("dev-b"))).withBackoff(FAST), Clock.systemUTC());
            List<MqttDesiredState> ordersAtB = new CopyOnWriteArrayList<>();
            DesiredStateReconciler reconcilerB = new DesiredStateReconciler("dev-b", tmp.resolve("b"), ordersAtB::add);
            reconcilerB.attach(devB);
            List<String> sniffedByA = new CopyOnWriteArrayList<>();
            // dev-a also tries to read dev-b's commands: the broker refuses the subscription.
            devA.subscribe(Topics.cmd("dev-b"), (t, p, r) -> sniffedByA.add(t));
            try {
                controller.start();
                devA.start();
                devB.start();
                await().atMost(15, TimeUnit.SECONDS).until(() -> controller.isConnected() && devA.isConnected() && devB.isConnected());

                // Its own topics work (and prove TLS with client certificates works).
                devA.publish(Topics.events("dev-a"), "{}".getBytes(StandardCharsets.UTF_8), false).get(10, TimeUnit.SECONDS);

                // Another device's topics: refused by the broker (PUBACK 0x87), for every leaf.
                // Mosquitto 2.0.11 also closes the connection after such a refusal; the link reconnects.
                for (String topic : List.of(Topics.desired("dev-b"), Topics.cmd("dev-b"), Topics.state("dev-b"),
                        Topics.events("dev-b"), Topics.presence("dev-b"), Topics.desired("dev-a"))) {
                    // Not even its own desired state can a device forge (the last topic).
                    byte[] payload = topic.endsWith("desired") ? Messages.desiredJson(99) : "{\"forged\":true}".getBytes(StandardCharsets.UTF_8);
                    AgentException e = refusal(devA, topic, payload, topic.endsWith("desired"));
                    assertThat(e.code()).as(topic).isEqualTo(AgentError.PUBLISH_REFUSED);
                    assertThat(e.isTransient()).isFalse();
                }

                // A sentinel from dev-b itself, sent after the forgeries were refused: once it is in,
                // anything the broker had accepted from dev-a would have arrived before it.
                devB.publish(Topics.events("dev-b"), "{\"sentinel\":true}".getBytes(StandardCharsets.UTF_8), false).get(10, TimeUnit.SECONDS);
                await().atMost(10, TimeUnit.SECONDS).until(() -> seenAtB.stream().anyMatch(s -> s.contains("sentinel")));
                assertThat(seenAtB).noneMatch(s -> s.contains("forged") || s.contains("\"rev\":99"));

                // The controller's real order reaches dev-b; dev-a's forged one never did.
                controller.publish(Topics.desired("dev-b"), Messages.desiredJson(3), true).get(10, TimeUnit.SECONDS);
                controller.publish(Topics.cmd("dev-b"), "{}".getBytes(StandardCharsets.UTF_8), false).get(10, TimeUnit.SECONDS);
                await().atMost(10, TimeUnit.SECONDS).until(() -> ordersAtB.size() == 1);
                assertThat(ordersAtB).extracting(MqttDesiredState::rev).containsExactly(3L);
                assertThat(sniffedByA).isEmpty();
            } finally {
                devA.stop();
                devB.stop();
                controller.stop();
            }
        }
    }

    @Test
    void aCertificateFromAnotherCaCannotConnect() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.tls("controller")) {
            MqttPki.ClientFiles rogue = MqttPki.untrustedClient(tmp.resolve("rogue"), "dev-a");
            // Trust the real broker, present a certificate the broker does not trust.
            TlsFiles files = new TlsFiles(broker.pki().caCert(), rogue.cert(), rogue.key());
            PahoMqttLink link = new PahoMqttLink(LinkConfig.device(broker.uri(), "dev-a").withTls(files)
                    .withConnectTimeout(Duration.ofSeconds(3)).withBackoff(FAST), Clock.systemUTC());
            List<Integer> connects = new CopyOnWriteArrayList<>();
            link.addConnectionListener(new MqttLink.ConnectionListener() {
                @Override
                public void connected(int window) {
                    connects.add(window);
                }
            });
            link.start();
            try {
                // A trusted device with the same id connects meanwhile: the broker is fine, the rogue is not.
                PahoMqttLink good = new PahoMqttLink(LinkConfig.device(broker.uri(), "dev-c")
                        .withTls(tls(broker.pki().client("dev-c"))).withBackoff(FAST), Clock.systemUTC());
                good.start();
                await().atMost(15, TimeUnit.SECONDS).until(good::isConnected);
                good.stop();
                assertThat(link.isConnected()).isFalse();
                assertThat(connects).isEmpty();
            } finally {
                link.stop();
            }
        }
    }
}
