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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.activation.TechnicianLock;
import rsuota.agent.cli.RsuAgent;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.update.UpdateState;
import rsuota.bundle.BundleHeader;
import rsuota.bundle.Sha256;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.net.RangeFileServer;
import rsuota.fixtures.pki.TestPki;
import rsuota.wire.Action;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.MqttEvent;

/**
 * The unit's side of the technician policy, on a running daemon and its real control socket: after
 * a local install the controller's desired states are kept back (on disk, alerted LOCALLY_MANAGED),
 * a lock keeps back a controller rollback (TECHNICIAN_LOCKED) but not a download, and the unlock
 * applies what was kept, also when the unlock happened while the daemon was stopped.
 */
class TechnicianHoldOnTheUnitTest {
    static final TestPki PKI = new TestPki();
    @TempDir Path tmp;
    RangeFileServer server;
    Path conf;
    Path stick;
    String url;
    String digest;
    AgentDaemon daemon;

    @BeforeEach
    void unit() throws Exception {
        Path ca = tmp.resolve("ca.pem");
        Files.writeString(ca, TestPki.pem("CERTIFICATE", PKI.root.cert().getEncoded()));
        assertThat(cli("sim-init", tmp.resolve("rsu-5").toString(), "--variant", "rsu-a1", "--slot-size", "1MiB", "--keyring", ca.toString())).isZero();
        conf = tmp.resolve("rsu-5/agent.conf");
        stick = new BundleBuilder(tmp).signedBy(PKI, PKI.signer).release("2.4.0").image("rootfs", 200_000).chunkSize(64 * 1024).build("stick.rsub");
        Path www = Files.createDirectories(tmp.resolve("www"));
        Path fleet = new BundleBuilder(www).signedBy(PKI, PKI.signer).release("2.5.0").image("rootfs", 200_000).chunkSize(64 * 1024).build("2.5.0.rsub");
        digest = Sha256.of(BundleHeader.read(fleet).manifestBytes());
        server = RangeFileServer.start(www);
        url = "http://127.0.0.1:" + server.port() + "/2.5.0.rsub";
        daemon = start();
    }

    @AfterEach
    void stop() throws Exception {
        if (daemon != null) daemon.close();
        server.close();
    }

    AgentDaemon start() throws Exception {
        AgentDaemon d = new AgentDaemon(AgentConfig.load(conf), new AgentDaemon.Options(Clock.systemUTC(),
                new rsuota.hal.power.SimulatedReboot(reason -> { }), null, Duration.ofMillis(100)));
        d.start();
        return d;
    }

    static int cli(String... args) {
        return RsuAgent.run(args, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    }

    MqttDesiredState desired(long rev, Action action) {
        return new MqttDesiredState(MqttDesiredState.SCHEMA, rev, "2.5.0", url, digest, action, null, null, "ro-1", Instant.now());
    }

    MqttEvent lastAlert() {
        return daemon.outbox().pendingEvents().stream().filter(e -> e.type().equals("alert")).reduce((a, b) -> b).orElse(null);
    }

    @Test
    void afterALocalInstallTheControllersOrderWaitsForTheUnlockAndThenRuns() throws Exception {
        assertThat(cli("--config", conf.toString(), "install", stick.toString(), "--download-only", "--reason", "USB update")).isZero();
        assertThat(tmp.resolve("rsu-5/state/" + TechnicianLock.MANAGED_FILE)).exists();
        assertThat(daemon.outbox().pendingEvents()).anySatisfy(e -> {
            assertThat(e.type()).isEqualTo(MqttEvent.LOCAL_ACTION);
            assertThat(e.detail()).containsEntry("action", "install").containsEntry("reason", "USB update")
                    .containsEntry("actor", "technician:" + System.getProperty("user.name"));
        });

        daemon.onDesired(desired(7, Action.DOWNLOAD));
        assertThat(tmp.resolve("rsu-5/state/" + AgentDaemon.HELD_FILE)).exists();
        assertThat(lastAlert().reason()).isEqualTo("LOCALLY_MANAGED");
        assertThat(lastAlert().detail()).containsEntry("rev", "7").containsEntry("by", "technician:" + System.getProperty("user.name"));
        assertThat(daemon.engine().state().state()).isEqualTo(UpdateState.VERIFIED);
        assertThat(daemon.engine().state().target().release()).as("the technician's release stays").isEqualTo("2.4.0");

        // unlocked while the daemon is stopped: the kept order runs at the next start
        daemon.close();
        daemon = null;
        assertThat(cli("--config", conf.toString(), "unlock")).isZero();
        daemon = start();
        await().atMost(Duration.ofSeconds(60)).until(() -> daemon.engine().state().state() == UpdateState.VERIFIED
                && "2.5.0".equals(daemon.engine().state().target().release()));
        assertThat(tmp.resolve("rsu-5/state/" + AgentDaemon.HELD_FILE)).doesNotExist();
    }

    @Test
    void aLockKeepsBackTheControllersRollbackNotItsDownloadAndTheUnlockThroughTheSocketAppliesIt() throws Exception {
        assertThat(cli("--config", conf.toString(), "lock", "--reason", "radio swap")).isZero();
        daemon.onDesired(desired(3, Action.DOWNLOAD));
        await().atMost(Duration.ofSeconds(60)).until(() -> daemon.engine().state().state() == UpdateState.VERIFIED);
        assertThat(tmp.resolve("rsu-5/state/" + AgentDaemon.HELD_FILE)).as("a download is not held").doesNotExist();

        daemon.onDesired(new MqttDesiredState(MqttDesiredState.SCHEMA, 4, "2.5.0", null, null, Action.ROLLBACK, null, null, "ro-1", Instant.now()));
        assertThat(lastAlert().reason()).isEqualTo("TECHNICIAN_LOCKED");
        assertThat(lastAlert().detail().get("message")).contains("radio swap").contains("rsu-agent unlock");
        assertThat(daemon.engine().state().state()).as("the rollback waits").isEqualTo(UpdateState.VERIFIED);

        assertThat(cli("--config", conf.toString(), "unlock", "--reason", "done")).isZero(); // through the socket
        await().atMost(Duration.ofSeconds(30)).until(() -> daemon.engine().state().state() == UpdateState.ROLLED_BACK);
        assertThat(tmp.resolve("rsu-5/state/" + AgentDaemon.HELD_FILE)).doesNotExist();
    }
}
