package rsuota.agent.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.cli.RsuAgent;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.link.LinkConfig;
import rsuota.agent.link.PahoMqttLink;
import rsuota.agent.link.TlsFiles;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.fixtures.mqtt.MqttPki;
import rsuota.fixtures.pki.TestPki;
import rsuota.wire.MqttState;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;

/**
 * The daemon as configured in the field: {@code link.tls.*} in agent.conf, a broker that requires
 * device certificates (Mosquitto with the per-device ACL). The unit's state reaches the
 * controller; a certificate issued to another unit is refused at start with the reason, instead of
 * an endless loop of refused connects.
 */
class DaemonOverTlsTest {
    static final TestPki PKI = new TestPki();
    @TempDir Path tmp;

    @Test
    void aUnitWithItsOwnCertificateReportsAndOneWithAnotherUnitsCertificateIsRefusedAtStart() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.tls("controller")) {
            Map<String, MqttState> states = new ConcurrentHashMap<>();
            MqttPki.ClientFiles ctl = broker.pki().client("controller");
            PahoMqttLink controller = new PahoMqttLink(LinkConfig.controller(broker.uri(), "controller")
                    .withTls(new TlsFiles(ctl.caCert(), ctl.cert(), ctl.key())), Clock.systemUTC());
            controller.subscribe(Topics.state("rsu-7"), (t, p, r) -> {
                try {
                    states.put("rsu-7", WireCodec.decode(p, MqttState.class));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            controller.start();
            try {
                await().atMost(Duration.ofSeconds(20)).until(controller::isConnected);
                Path dir = device("rsu-7", broker, broker.pki().client("rsu-7"));
                AgentDaemon d = new AgentDaemon(AgentConfig.load(dir.resolve("agent.conf")), new AgentDaemon.Options(Clock.systemUTC(),
                        new rsuota.hal.power.SimulatedReboot(reason -> { }), null, Duration.ofMillis(100)));
                d.start();
                try {
                    await().atMost(Duration.ofSeconds(30)).until(() -> states.containsKey("rsu-7"));
                    assertThat(states.get("rsu-7").deviceId()).isEqualTo("rsu-7");
                } finally {
                    d.close();
                }

                Path other = device("rsu-8", broker, broker.pki().client("rsu-7"));
                assertThatThrownBy(() -> new AgentDaemon(AgentConfig.load(other.resolve("agent.conf")), new AgentDaemon.Options(Clock.systemUTC(),
                        new rsuota.hal.power.SimulatedReboot(reason -> { }), null, Duration.ofMillis(100))))
                        .isInstanceOf(AgentConfig.ConfigException.class)
                        .hasMessageContaining("is issued to 'rsu-7', but device.id is 'rsu-8'").hasMessageContaining("device-ca issue rsu-8");
            } finally {
                controller.stop();
            }
        }
    }

    private Path device(String id, MosquittoBroker broker, MqttPki.ClientFiles tls) throws Exception {
        Path ca = tmp.resolve("ca.pem");
        Files.writeString(ca, TestPki.pem("CERTIFICATE", PKI.root.cert().getEncoded()));
        Path dir = tmp.resolve(id);
        StringWriter err = new StringWriter();
        assertThat(RsuAgent.run(new String[] {"sim-init", dir.toString(), "--variant", "rsu-a1", "--slot-size", "1MiB", "--device-id", id,
                "--keyring", ca.toString(), "--region", "north", "--corridor", "c7"}, new PrintWriter(new StringWriter()), new PrintWriter(err)))
                .as(err.toString()).isZero();
        Files.writeString(dir.resolve("agent.conf"), String.join("\n", "", "link.broker=" + broker.uri(), "link.heartbeat=1s",
                "link.tls.ca=" + tls.caCert(), "link.tls.cert=" + tls.cert(), "link.tls.key=" + tls.key(), ""),
                java.nio.file.StandardOpenOption.APPEND);
        return dir;
    }
}
