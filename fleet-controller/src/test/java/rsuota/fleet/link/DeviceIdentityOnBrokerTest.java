package rsuota.fleet.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import rsuota.fleet.app.Controller;
import rsuota.fleet.cli.FleetControllerMain;
import rsuota.fleet.pki.DeviceCa;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;
import rsuota.wire.Topics;
import rsuota.wire.TlsMaterial;

/**
 * Device identity on the broker, over real TLS: the embedded HiveMQ with its TLS listener, and a
 * real Mosquitto run from the files {@code fleet-controller broker-config mosquitto} writes. Both
 * with certificates from {@code fleet-controller device-ca}, and the controller connected with its
 * own identity. A unit reaches its own topics and nothing else; a foreign CA, a missing certificate
 * and a revoked one are refused.
 */
class DeviceIdentityOnBrokerTest {
    @TempDir
    Path dir;

    enum Kind { EMBEDDED_HIVEMQ, MOSQUITTO }

    private static final int NOT_AUTHORIZED = 0x87;

    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void eachUnitReachesOnlyItsOwnTopicsAndRevokedOrForeignCertificatesAreRefused(Kind kind) throws Exception {
        TestPki pki = new TestPki();
        int port = ControllerAgainstBrokerTest.freePort();
        // The RunningController initialises the data directory; then, before the controller starts, the CLI creates the CA.
        try (RunningController rc = new RunningController(pki, dir, cfg -> {
            try {
                cli("device-ca", "init", "--data-dir", cfg.dir().root().toString());
                DeviceCa ca = DeviceCa.open(cfg.dir().deviceCa(), Clock.systemUTC());
                Controller.BrokerMode mode;
                if (kind == Kind.EMBEDDED_HIVEMQ) {
                    mode = new Controller.BrokerMode.Embedded(null, 0, ca, "127.0.0.1", port);
                } else {
                    cli("broker-config", "mosquitto", "--data-dir", cfg.dir().root().toString(), "--out", dir.resolve("mosq").toString(),
                            "--port", String.valueOf(port), "--bind", "127.0.0.1", "--run-as", System.getProperty("user.name"));
                    startMosquitto(dir.resolve("mosq"));
                    mode = new Controller.BrokerMode.External("ssl://127.0.0.1:" + port,
                            new TlsMaterial(ca.caCert(), ca.controller().cert(), ca.controller().key()));
                }
                return new Controller.Config(cfg.dir(), cfg.keyring(), cfg.host(), cfg.port(), mode, null, null, cfg.links(), null, null);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        })) {
            Controller c = rc.controller;
            Path root = rc.dataDir.root();
            await().atMost(Duration.ofSeconds(30)).until(() -> c.link().connected());
            String uri = "ssl://127.0.0.1:" + port;
            DeviceCa.Identity a = issue(root, "unit-a");
            DeviceCa.Identity b = issue(root, "unit-b");

            BlockingQueue<String> seenByA = new LinkedBlockingQueue<>();
            MqttAsyncClient unitA = connect(uri, "unit-a", a, seenByA);
            // Its own state: accepted and ingested.
            publish(unitA, Topics.state("unit-a"), DeviceMessages.state("unit-a", "rsu-a1", "i-5", "idle", null, 0, DeviceMessages.GOOD).payload());
            await().atMost(Duration.ofSeconds(20)).until(() -> c.devices().list().stream().anyMatch(d -> d.id().equals("unit-a")));

            // Another unit's state, and its own desired state (a unit cannot forge what the controller wants of it): refused by
            // the broker (HiveMQ: PUBACK 0x87, or the connection closed; Mosquitto: dropped), never ingested.
            int rc1 = publishReason(unitA, Topics.state("unit-b"), DeviceMessages.state("unit-b", "rsu-a1", "i-5", "idle", null, 0, DeviceMessages.GOOD).payload());
            if (kind == Kind.EMBEDDED_HIVEMQ) assertThat(rc1 == NOT_AUTHORIZED || !unitA.isConnected()).as("PUBACK 0x%s", Integer.toHexString(rc1)).isTrue();
            unitA = reconnectIfDropped(unitA, uri, "unit-a", a, seenByA);
            publishReason(unitA, Topics.desired("unit-a"), "{}".getBytes(StandardCharsets.UTF_8));
            // A marker after both: once it is ingested, the refused messages would have been too (one client, in order).
            unitA = publishAllowed(unitA, uri, "unit-a", a, seenByA, Topics.presence("unit-a"), DeviceMessages.presence("unit-a", "online").payload());
            await().atMost(Duration.ofSeconds(20)).until(() -> c.ingest().counters().get("presence") >= 1);
            assertThat(c.devices().list()).extracting(d -> d.id()).doesNotContain("unit-b");
            assertThat(c.ingest().refusals().values().stream().mapToLong(Long::longValue).sum()).isZero();

            // Subscriptions to everything or to another unit's topics: refused (HiveMQ: SUBACK 0x87) or granted but
            // never delivered (Mosquitto filters each message by the ACL): unit-a never sees unit-b's traffic.
            int all = subscribeReason(unitA, "#");
            int others = subscribeReason(unitA, Topics.PREFIX + "+/state");
            int desiredB = subscribeReason(unitA, Topics.desired("unit-b"));
            if (kind == Kind.EMBEDDED_HIVEMQ) assertThat(List.of(all, others, desiredB)).allMatch(r -> r >= 0x80);
            assertThat(subscribeReason(unitA, Topics.desired("unit-a"))).isLessThan(0x80);
            MqttAsyncClient unitB = connect(uri, "unit-b", b, null);
            publish(unitB, Topics.state("unit-b"), DeviceMessages.state("unit-b", "rsu-a1", "i-5", "idle", null, 0, DeviceMessages.GOOD).payload());
            await().atMost(Duration.ofSeconds(20)).until(() -> c.devices().list().stream().anyMatch(d -> d.id().equals("unit-b")));
            publish(unitA, Topics.presence("unit-a"), DeviceMessages.presence("unit-a", "online").payload());
            await().atMost(Duration.ofSeconds(20)).until(() -> c.ingest().counters().get("presence") >= 2);
            assertThat(seenByA).noneMatch(m -> m.contains("unit-b"));
            unitB.disconnect().waitForCompletion(5000);
            unitB.close();
            unitA.disconnect().waitForCompletion(5000);
            unitA.close();

            // A certificate from another CA, and no certificate at all: refused at the TLS handshake.
            DeviceCa foreign = DeviceCa.init(dir.resolve("foreign-ca"), List.of("localhost"), Clock.systemUTC());
            DeviceCa.Identity rogue = foreign.issue("unit-a", DeviceCa.ROLE_DEVICE, dir.resolve("rogue"));
            assertThatThrownBy(() -> connect(uri, "unit-a", new DeviceCa.Identity(a.caCert(), rogue.cert(), rogue.key(), null), null))
                    .isInstanceOf(MqttException.class);

            // The client id must be the certificate's CN: HiveMQ refuses; Mosquitto replaces it by the CN (use_username_as_clientid).
            if (kind == Kind.EMBEDDED_HIVEMQ) {
                assertThatThrownBy(() -> connect(uri, "unit-b", a, null)).isInstanceOf(MqttException.class);
            }

            // Revoked: refused at the next connect (Mosquitto reads the CRL when it starts, so it is restarted).
            String out = cli("device-ca", "revoke", "unit-b", "--data-dir", root.toString(), "--reason", "unit stolen from cabinet 12");
            assertThat(out).contains("revoked 1 certificate(s) of unit-b");
            if (kind == Kind.MOSQUITTO) mosquitto.restart();
            assertThatThrownBy(() -> connect(uri, "unit-b", b, null)).isInstanceOf(MqttException.class);
            MqttAsyncClient again = connect(uri, "unit-a", a, null);
            again.disconnect().waitForCompletion(5000);
            again.close();
            assertThat(c.auditTrail().page(0, 100)).extracting(e -> e.action()).contains("device_ca.init", "device_cert.issue", "device_cert.revoke");
        } finally {
            if (mosquitto != null) mosquitto.close();
        }
    }

    private ExternalMosquitto mosquitto;

    private void startMosquitto(Path confDir) {
        try {
            mosquitto = ExternalMosquitto.start(confDir.resolve("mosquitto.conf"));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private DeviceCa.Identity issue(Path root, String id) throws Exception {
        cli("device-ca", "issue", id, "--data-dir", root.toString(), "--out", dir.resolve("units").resolve(id).toString());
        Path d = dir.resolve("units").resolve(id);
        return new DeviceCa.Identity(d.resolve("ca.pem"), d.resolve(id + ".pem"), d.resolve(id + ".key"), null);
    }

    static String cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = FleetControllerMain.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        assertThat(code).as("fleet-controller %s: %s", String.join(" ", args), err).isZero();
        return out.toString();
    }

    /**
     * Publishes a message the unit may send, right after refused ones: HiveMQ may close the connection over a refusal
     * a moment after the PUBACK, so a "not connected" or "connection lost" answer reconnects and sends again.
     */
    static MqttAsyncClient publishAllowed(MqttAsyncClient c, String uri, String clientId, DeviceCa.Identity id, BlockingQueue<String> received,
                                          String topic, byte[] payload) throws Exception {
        int rc = 0;
        for (int attempt = 0; attempt < 3; attempt++) {
            c = reconnectIfDropped(c, uri, clientId, id, received);
            rc = publishReason(c, topic, payload);
            if (rc != MqttClientException.REASON_CODE_CLIENT_NOT_CONNECTED && rc != MqttClientException.REASON_CODE_CONNECTION_LOST) break;
            await().pollDelay(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> true);
        }
        assertThat(rc).as("PUBACK of %s", topic).isLessThan(0x80);
        return c;
    }

    static MqttAsyncClient reconnectIfDropped(MqttAsyncClient c, String uri, String clientId, DeviceCa.Identity id, BlockingQueue<String> received)
            throws Exception {
        if (c.isConnected()) return c;
        c.close(true);
        return connect(uri, clientId, id, received);
    }

    static MqttAsyncClient connect(String uri, String clientId, DeviceCa.Identity id, BlockingQueue<String> received) throws Exception {
        MqttAsyncClient client = new MqttAsyncClient(uri, clientId, new MemoryPersistence());
        if (received != null) {
            client.setCallback(new org.eclipse.paho.mqttv5.client.MqttCallback() {
                public void disconnected(org.eclipse.paho.mqttv5.client.MqttDisconnectResponse r) { }
                public void mqttErrorOccurred(MqttException e) { }
                public void messageArrived(String topic, MqttMessage m) {
                    received.add(topic + " " + new String(m.getPayload(), StandardCharsets.UTF_8));
                }
                public void deliveryComplete(IMqttToken t) { }
                public void connectComplete(boolean reconnect, String u) { }
                public void authPacketArrived(int code, org.eclipse.paho.mqttv5.common.packet.MqttProperties p) { }
            });
        }
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setConnectionTimeout(10);
        o.setSocketFactory(new TlsMaterial(id.caCert(), id.cert(), id.key()).sslContext().getSocketFactory());
        o.setHttpsHostnameVerificationEnabled(true);
        try {
            client.connect(o).waitForCompletion(15_000);
        } catch (MqttException e) {
            client.close(true);
            throw e;
        }
        return client;
    }

    static void publish(MqttAsyncClient c, String topic, byte[] payload) throws Exception {
        assertThat(publishReason(c, topic, payload)).as("PUBACK of %s", topic).isLessThan(0x80);
    }

    /** The PUBACK reason code of a QoS 1 publish (0 = success; 0x87 = not authorised). */
    static int publishReason(MqttAsyncClient c, String topic, byte[] payload) throws Exception {
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        IMqttToken t;
        try {
            // Throws at once when the broker has just closed the connection over an earlier refusal.
            t = c.publish(topic, m);
            t.waitForCompletion(10_000);
        } catch (MqttException e) {
            return e.getReasonCode();
        }
        int[] rc = t.getReasonCodes();
        return rc == null || rc.length == 0 ? 0 : rc[0];
    }

    static int subscribeReason(MqttAsyncClient c, String filter) throws Exception {
        IMqttToken t = c.subscribe(new MqttSubscription(filter, 1));
        try {
            t.waitForCompletion(10_000);
        } catch (MqttException e) {
            return e.getReasonCode();
        }
        return t.getReasonCodes()[0];
    }

    /** A Mosquitto process run from a given configuration file, as a site runs it. */
    static final class ExternalMosquitto implements AutoCloseable {
        private final Path conf;
        private Process process;

        private ExternalMosquitto(Path conf) {
            this.conf = conf;
        }

        static ExternalMosquitto start(Path conf) throws java.io.IOException {
            ExternalMosquitto m = new ExternalMosquitto(conf);
            m.launch();
            return m;
        }

        private void launch() throws java.io.IOException {
            process = new ProcessBuilder("/usr/sbin/mosquitto", "-c", conf.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(conf.resolveSibling("mosquitto.log").toFile())).start();
            String text = Files.readString(conf);
            int port = Integer.parseInt(text.lines().filter(l -> l.startsWith("listener ")).findFirst().orElseThrow().split(" ")[1]);
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                if (!process.isAlive()) throw new IllegalStateException("mosquitto exited: " + Files.readString(conf.resolveSibling("mosquitto.log")));
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                    return true;
                } catch (java.io.IOException e) {
                    return false;
                }
            });
        }

        void restart() throws java.io.IOException, InterruptedException {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
            launch();
        }

        @Override
        public void close() {
            if (process != null) process.destroyForcibly();
        }
    }
}
