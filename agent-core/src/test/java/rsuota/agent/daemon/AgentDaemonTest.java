package rsuota.agent.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.cli.RsuAgent;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.link.LinkConfig;
import rsuota.agent.link.PahoMqttLink;
import rsuota.bundle.BundleHeader;
import rsuota.bundle.Sha256;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.fixtures.net.RangeFileServer;
import rsuota.fixtures.pki.TestPki;
import rsuota.hal.boot.sim.SimulatedBootControl;
import rsuota.wire.Action;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.MqttEvent;
import rsuota.wire.MqttState;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;

/**
 * The daemon end to end over a real Mosquitto: a desired state arrives, the agent downloads,
 * activates, "reboots" (simulated bootloader), a new daemon commits, and the controller side sees
 * every transition in order and the retained state with the new version.
 */
class AgentDaemonTest {
    static final TestPki PKI = new TestPki();
    @TempDir Path tmp;
    MosquittoBroker broker;
    RangeFileServer server;
    PahoMqttLink controller;
    final Map<Long, MqttEvent> events = new ConcurrentSkipListMap<>();
    final Map<String, MqttState> states = new ConcurrentHashMap<>();
    final List<String> reboots = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        broker = MosquittoBroker.plain();
        Path www = Files.createDirectories(tmp.resolve("www"));
        new BundleBuilder(www).signedBy(PKI, PKI.signer).release("2.4.0").image("rootfs", 300_000).chunkSize(64 * 1024).build("2.4.0.rsub");
        server = RangeFileServer.start(www);
        controller = new PahoMqttLink(LinkConfig.controller(broker.uri(), "test-controller"), Clock.systemUTC());
        controller.subscribe(Topics.events("rsu-1"), (t, p, r) -> {
            try {
                MqttEvent e = WireCodec.decode(p, MqttEvent.class);
                events.put(e.seq(), e);
            } catch (Exception ex) {
                throw new AssertionError(ex);
            }
        });
        controller.subscribe(Topics.state("rsu-1"), (t, p, r) -> {
            try {
                states.put("rsu-1", WireCodec.decode(p, MqttState.class));
            } catch (Exception ex) {
                throw new AssertionError(ex);
            }
        });
        controller.start();
        await().atMost(Duration.ofSeconds(20)).until(controller::isConnected);
    }

    @AfterEach
    void tearDown() throws Exception {
        controller.stop();
        server.close();
        broker.close();
    }

    Path device() throws Exception {
        Path ca = tmp.resolve("ca.pem");
        Files.writeString(ca, TestPki.pem("CERTIFICATE", PKI.root.cert().getEncoded()));
        Path dir = tmp.resolve("rsu-1");
        StringWriter err = new StringWriter();
        assertThat(RsuAgent.run(new String[] {"sim-init", dir.toString(), "--variant", "rsu-a1", "--slot-size", "1MiB",
                "--keyring", ca.toString(), "--region", "north", "--corridor", "c7"}, new PrintWriter(new StringWriter()), new PrintWriter(err)))
                .as(err.toString()).isZero();
        Files.writeString(dir.resolve("agent.conf"), String.join("\n", "", "link.broker=" + broker.uri(), "link.heartbeat=1s",
                "health.requiredPassing=1s", "health.interval=200ms", ""), java.nio.file.StandardOpenOption.APPEND);
        return dir;
    }

    AgentDaemon daemon(Path dir) throws Exception {
        AgentDaemon d = new AgentDaemon(AgentConfig.load(dir.resolve("agent.conf")),
                new AgentDaemon.Options(Clock.systemUTC(), new rsuota.hal.power.SimulatedReboot(reason -> reboots.add(reason)), null,
                        Duration.ofMillis(100)));
        d.start();
        return d;
    }

    @Test
    void statusLedAndHardwareWatchdogFollowTheLoop() throws Exception {
        Path dir = device();
        Path wd = tmp.resolve("fake-watchdog");
        Files.createFile(wd); // a plain file stands in for /dev/watchdog: never the machine's real one
        Files.writeString(dir.resolve("agent.conf"), "led.activity.pin=5\nwatchdog.device=" + wd + "\n",
                java.nio.file.StandardOpenOption.APPEND);
        rsuota.hal.gpio.SimulatedGpio gpio = new rsuota.hal.gpio.SimulatedGpio();
        AgentDaemon d = new AgentDaemon(AgentConfig.load(dir.resolve("agent.conf")),
                new AgentDaemon.Options(Clock.systemUTC(), new rsuota.hal.power.SimulatedReboot(reason -> reboots.add(reason)), gpio,
                        Duration.ofMillis(100)));
        d.start();
        try {
            // idle: the LED pin is driven (blink pattern of IDLE), and the hardware watchdog is kicked
            await().atMost(Duration.ofSeconds(20)).until(() -> gpio.outputLevel(5) != null);
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.size(wd) > 0);
        } finally {
            d.close();
        }
        // magic close: the last byte written is 'V', so the hardware watchdog does not reset the box
        byte[] written = Files.readAllBytes(wd);
        assertThat(written[written.length - 1]).isEqualTo((byte) 'V');
    }

    @Test
    void aBoxBootedIntoASlotTheAgentNeverWroteStillReportsItsStateWithoutABaseImage() throws Exception {
        Path dir = device();
        AgentDaemon first = daemon(dir);
        await().atMost(Duration.ofSeconds(20)).until(() -> states.containsKey("rsu-1"));
        first.close();
        states.clear();
        // Re-flashed by hand in the field: the box now runs slot B, of which the agent has no release on record.
        Path env = dir.resolve("boot/bootenv.properties");
        Files.writeString(env, Files.readString(env).replace("BOOTED=A", "BOOTED=B"));
        AgentDaemon second = daemon(dir);
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> states.containsKey("rsu-1"));
            MqttState st = states.get("rsu-1");
            assertThat(st.versions()).doesNotContainKey("baseImage").containsKey("agent");
            assertThat(st.slots()).anySatisfy(s -> {
                assertThat(s.name()).isEqualTo("B");
                assertThat(s.booted()).isTrue();
                assertThat(s.release()).isNull();
            });
        } finally {
            second.close();
        }
    }

    @Test
    void desiredStateToActivatedOverARealBroker() throws Exception {
        Path dir = device();
        AgentDaemon first = daemon(dir);
        await().atMost(Duration.ofSeconds(20)).until(() -> states.containsKey("rsu-1"));
        assertThat(states.get("rsu-1").identity().corridor()).isEqualTo("c7");
        assertThat(states.get("rsu-1").versions()).containsEntry("baseImage", "1.0.0");

        Path bundle = tmp.resolve("www/2.4.0.rsub");
        String digest = Sha256.of(BundleHeader.read(bundle).manifestBytes());
        MqttDesiredState desired = new MqttDesiredState(MqttDesiredState.SCHEMA, 1, "2.4.0", server.uri("/2.4.0.rsub").toString(),
                digest, Action.ACTIVATE, null, null, "rollout-1", Instant.now());
        controller.publish(Topics.desired("rsu-1"), WireCodec.encode(desired), true).get();

        first.awaitStop(); // the engine asked for a reboot
        first.close();
        assertThat(reboots).hasSize(1);
        SimulatedBootControl.open(dir.resolve("boot")).simulateBoot();
        AgentDaemon second = daemon(dir);
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> events.values().stream().anyMatch(e -> "activated".equals(e.state())));
            await().atMost(Duration.ofSeconds(10)).until(() -> "2.4.0".equals(states.get("rsu-1").versions().get("baseImage")));
        } finally {
            second.close();
        }
        List<String> seen = events.values().stream().filter(e -> e.type().equals("transition")).map(MqttEvent::state).toList();
        assertThat(seen).containsSubsequence("pending", "downloading", "verified", "awaiting_window", "activating", "committing", "activated");
        // seq is gapless from 1 across the restart: nothing lost in the outbox
        assertThat(events.keySet()).containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, events.size()).boxed().toList());
        assertThat(events.values()).allSatisfy(e -> assertThat(e.detail()).containsEntry("rolloutId", "rollout-1"));
        // the verified transition says what the download cost: the whole (format 1) bundle fetched, nothing copied
        MqttEvent verified = events.values().stream().filter(e -> "verified".equals(e.state())).findFirst().orElseThrow();
        long size = Files.size(bundle);
        assertThat(verified.downloadBytes()).hasValueSatisfying(b -> {
            assertThat(b.fetched()).isBetween(size, size + 32 * 1024);
            assertThat(b.reused()).isZero();
        });
        MqttState st = states.get("rsu-1");
        assertThat(st.deployment().state()).isEqualTo("activated");
        assertThat(st.slots()).anySatisfy(s -> {
            assertThat(s.name()).isEqualTo("B");
            assertThat(s.booted()).isTrue();
            assertThat(s.release()).isEqualTo("2.4.0");
        });
    }
}
