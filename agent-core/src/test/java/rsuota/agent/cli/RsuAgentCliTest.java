package rsuota.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.pki.TestPki;

/** The rsu-agent command contract: outputs, JSON fields and exit codes. */
class RsuAgentCliTest {
    static final TestPki PKI = new TestPki();
    @TempDir Path tmp;
    Path conf;

    record Run(int code, String out, String err) {}

    static Run cli(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = RsuAgent.run(args, new PrintWriter(o, true), new PrintWriter(e, true));
        return new Run(code, o.toString(), e.toString());
    }

    @BeforeEach
    void device() throws Exception {
        Path ca = tmp.resolve("ca.pem");
        Files.writeString(ca, TestPki.pem("CERTIFICATE", PKI.root.cert().getEncoded()));
        Run r = cli("sim-init", tmp.resolve("rsu-7").toString(), "--variant", "rsu-a1", "--slot-size", "1MiB", "--keyring", ca.toString(),
                "--release", "1.2.0");
        assertThat(r.code()).as(r.err()).isZero();
        conf = tmp.resolve("rsu-7/agent.conf");
        assertThat(r.out().trim()).isEqualTo(conf.toAbsolutePath().toString());
    }

    @Test
    void configChecksTheFileAndExplainsEveryKey() throws Exception {
        Run ok = cli("--config", conf.toString(), "config");
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).contains(": ok");
        Run explain = cli("--config", conf.toString(), "config", "--explain");
        assertThat(explain.code()).as(explain.err()).isZero();
        assertThat(explain.out()).containsPattern("device\\.id +rsu-7 +file")
                .containsPattern("download\\.stallTimeout +30s +file")
                .containsPattern("rollback\\.budget +15m +default")
                .containsPattern("link\\.broker +- +unset");
        Files.writeString(conf, Files.readString(conf) + "boot.tris=4\nlink.heartbeat=soon\n");
        Run bad = cli("--config", conf.toString(), "config");
        assertThat(bad.code()).isEqualTo(rsuota.agent.AgentExit.CONFIG.code());
        assertThat(bad.err()).contains("2 problems").contains("boot.tris=4: unknown key (did you mean boot.tries?")
                .contains("link.heartbeat=soon: is not a duration");
    }

    @Test
    void aSimulatedUnitRunningAnImageFetchesOnlyWhatItLacksOverHttp() throws Exception {
        Path ca = tmp.resolve("ca.pem");
        byte[] old = rsuota.agent.download.DeltaFillTest.text(new java.util.Random(11), 1_500_000);
        Path oldImg = Files.write(tmp.resolve("old.img"), old);
        byte[] neu = old.clone();
        System.arraycopy("a minor release".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, neu, 800_000, 15);
        Path www = Files.createDirectories(tmp.resolve("www"));
        Files.write(www.resolve("new.img"), neu);
        Path b = new BundleBuilder(www).signedBy(PKI, PKI.signer).imageFile("rootfs", www.resolve("new.img"))
                .format2(rsuota.bundle.Chunking.DEFAULT).build("new.rsub");
        Run init = cli("sim-init", tmp.resolve("rsu-8").toString(), "--variant", "rsu-a1", "--slot-size", "2MiB", "--keyring", ca.toString(),
                "--running-image", oldImg.toString());
        assertThat(init.code()).as(init.err()).isZero();
        assertThat(Files.mismatch(oldImg, tmp.resolve("rsu-8/slot-a.img"))).as("slot A holds the running image").isEqualTo(old.length);
        try (rsuota.fixtures.net.RangeFileServer server = rsuota.fixtures.net.RangeFileServer.start(www)) {
            Run inst = cli("--config", tmp.resolve("rsu-8/agent.conf").toString(), "install", server.uri("/new.rsub").toString(), "--download-only");
            assertThat(inst.code()).as(inst.err()).isZero();
            long payload = rsuota.bundle.BundleHeader.read(b).manifest().payloadSize();
            assertThat(server.bytesServed()).as("header and the changed chunk, of a %d-byte payload", payload)
                    .isLessThan(rsuota.agent.download.SlotFiller.FIRST_HEADER_FETCH + 2L * rsuota.bundle.Chunking.DEFAULT.max());
        }
        byte[] slotB = Files.readAllBytes(tmp.resolve("rsu-8/slot-b.img"));
        assertThat(java.util.Arrays.copyOf(slotB, neu.length)).isEqualTo(neu);
        Run tooBig = cli("sim-init", tmp.resolve("rsu-9").toString(), "--variant", "rsu-a1", "--slot-size", "1MiB", "--keyring", ca.toString(),
                "--running-image", oldImg.toString());
        assertThat(tooBig.code()).isEqualTo(rsuota.agent.AgentExit.CONFIG.code());
        assertThat(tooBig.err()).contains("does not fit a slot");
    }

    @Test
    void statusJsonHasTheContractFields() throws Exception {
        Path b = new BundleBuilder(tmp).signedBy(PKI, PKI.signer).image("rootfs", 200_000).chunkSize(64 * 1024).build("b.rsub");
        Run inst = cli("--config", conf.toString(), "install", b.toString(), "--download-only");
        assertThat(inst.code()).as(inst.err()).isZero();
        assertThat(tmp.resolve("rsu-7/state/" + rsuota.agent.activation.TechnicianLock.MANAGED_FILE)).as("locally managed until unlock").exists();
        Run st = cli("--config", conf.toString(), "status", "--json");
        JsonNode j = new ObjectMapper().readTree(st.out());
        assertThat(j.get("state").asText()).isEqualTo("verified");
        assertThat(j.get("release").asText()).isEqualTo("2.4.0");
        // every byte once, plus the part of the first 32 KiB header request that reaches into the payload
        assertThat(j.at("/download/bytesFetched").asLong()).isBetween(Files.size(b), Files.size(b) + 32 * 1024);
        assertThat(j.at("/download/chunksVerified").asInt()).isEqualTo(4);
        assertThat(j.at("/download/chunksTotal").asInt()).isEqualTo(4);
        assertThat(j.at("/lastError/code").isNull()).isTrue();
        assertThat(j.get("slots")).hasSize(2);
        assertThat(j.at("/slots/0/name").asText()).isEqualTo("A");
        assertThat(j.at("/slots/0/release").asText()).isEqualTo("1.2.0");
        assertThat(j.at("/slots/0/booted").asBoolean()).isTrue();
        assertThat(j.at("/slots/1/state").asText()).isEqualTo("verified");
        Run human = cli("--config", conf.toString(), "status");
        assertThat(human.out()).contains("state:    verified (release 2.4.0)").contains("4/4 chunks verified");
        Run slots = cli("--config", conf.toString(), "slots", "--json");
        assertThat(new ObjectMapper().readTree(slots.out()).get(1).get("release").asText()).isEqualTo("2.4.0");
        // activation from the CLI: no windows configured -> any time; the simulated reboot runs the bootloader
        Run act = cli("--config", conf.toString(), "activate", "--now");
        assertThat(act.code()).as(act.err()).isZero();
        assertThat(act.out()).contains("trial boot of slot B set");
        // The slot reads "trial" from the moment its trial boot is set, on every unit alike.
        Run after = cli("--config", conf.toString(), "slots", "--json");
        assertThat(new ObjectMapper().readTree(after.out()).get(1).get("state").asText()).isEqualTo("trial");
    }

    @Test
    void rollbackOfADownloadedButNeverActivatedReleaseNeedsNoReboot() throws Exception {
        Path b = new BundleBuilder(tmp).signedBy(PKI, PKI.signer).image("rootfs", 100_000).chunkSize(64 * 1024).build("r.rsub");
        assertThat(cli("--config", conf.toString(), "install", b.toString(), "--download-only").code()).isZero();
        Run r = cli("--config", conf.toString(), "rollback", "--reason", "operator rollback", "--yes");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("never activated");
        assertThat(cli("--config", conf.toString(), "status", "--json").out()).contains("\"state\" : \"rolled_back\"");
        Run again = cli("--config", conf.toString(), "activate", "--now");
        assertThat(again.code()).isEqualTo(3);
        assertThat(again.err().trim()).startsWith("NOTHING_TO_ACTIVATE: ");
    }

    @Test
    void failedInstallExitsThreeWithTheReasonCode() throws Exception {
        Path b = new BundleBuilder(tmp).signedBy(PKI, PKI.rogueSigner).image("rootfs", 100_000).chunkSize(64 * 1024).build("rogue.rsub");
        Run r = cli("--config", conf.toString(), "install", b.toString(), "--download-only");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err().trim()).startsWith("UNTRUSTED_SIGNER: ");
        assertThat(r.err().lines().count()).isEqualTo(1);
        Run st = cli("--config", conf.toString(), "status", "--json");
        assertThat(st.out()).contains("\"code\" : \"UNTRUSTED_SIGNER\"");
    }

    @Test
    void usageConfigLockAndStateErrorsHaveDistinctCodes() throws Exception {
        assertThat(cli().code()).isEqualTo(2);
        assertThat(cli("status").code()).as("--config is required").isEqualTo(2);
        assertThat(cli("--config", conf.toString(), "frobnicate").code()).isEqualTo(2);
        Run missing = cli("--config", tmp.resolve("nope.conf").toString(), "status");
        assertThat(missing.code()).isEqualTo(4);
        assertThat(missing.err()).startsWith("CONFIG: ").contains("does not exist");
        Files.writeString(conf, "\nboot.tries=12\n", StandardOpenOption.APPEND);
        Run bad = cli("--config", conf.toString(), "status");
        assertThat(bad.code()).isEqualTo(4);
        assertThat(bad.err()).contains("boot.tries=12").contains("1..9");
    }

    @Test
    void aSecondAgentOnTheSameStateDirectoryIsTurnedAway() throws Exception {
        Path lockFile = tmp.resolve("rsu-7/state/agent.lock");
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock held = ch.lock()) {
            // the lock is held by this JVM; a second FileChannel lock attempt in the same JVM throws, so run a child
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), RsuAgent.class.getName(), "--config", conf.toString(), "install",
                    tmp.resolve("x.rsub").toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor()).isEqualTo(5);
            assertThat(out).contains("LOCKED: another rsu-agent");
        }
    }

    @Test
    void technicianLockShowsAsAnInhibitorAndHealthRunsProbes() throws Exception {
        assertThat(cli("--config", conf.toString(), "lock", "--reason", "radio swap").out()).contains("locked");
        assertThat(tmp.resolve("rsu-7/state/technician.lock")).exists();
        assertThat(cli("--config", conf.toString(), "unlock").out()).contains("unlocked");
        assertThat(cli("--config", conf.toString(), "unlock").out()).contains("was not locked");
        // no daemon: the local actions wait in the unit's outbox for the daemon to send them
        String outbox = Files.readString(tmp.resolve("rsu-7/state/outbox/" + rsuota.agent.report.Outbox.LOG_FILE));
        assertThat(outbox).contains("\"type\":\"local_action\"").contains("\"action\":\"lock\"").contains("\"action\":\"unlock\"")
                .contains("\"reason\":\"radio swap\"").contains("\"actor\":\"technician:" + System.getProperty("user.name") + "\"");
        Run h = cli("--config", conf.toString(), "health");
        assertThat(h.code()).isZero();
        assertThat(h.out()).contains("no health probes configured");
    }

    @Test
    void diagnosticsBundleForATechnician() throws Exception {
        Path out = tmp.resolve("diag.tar.gz");
        Run r = cli("--config", conf.toString(), "diag", "collect", "-o", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.size(out)).isGreaterThan(100);
    }

    /** rsu-agent returns only AgentExit statuses (AgentError names one per code), so listing the table is enough. */
    @Test
    void helpListsEveryExitStatus() {
        Run r = cli("--help");
        assertThat(r.code()).isZero();
        // picocli wraps long meanings; compare with the whitespace folded
        String help = r.out().replaceAll("\\s+", " ");
        for (rsuota.agent.AgentExit x : rsuota.agent.AgentExit.values()) {
            assertThat(help).as("--help lists exit %d", x.code()).contains(" " + x.code() + " " + x.meaning() + " ");
        }
    }
}
