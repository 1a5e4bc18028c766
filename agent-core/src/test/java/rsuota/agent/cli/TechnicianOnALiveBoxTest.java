package rsuota.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.AgentExit;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.net.FaultProxy;
import rsuota.fixtures.net.RangeFileServer;
import rsuota.fixtures.pki.TestPki;

/**
 * A technician on a unit whose daemon runs (a real {@code rsu-agent run} child JVM, its real Unix
 * control socket): every subcommand goes through the daemon instead of stopping at LOCKED, install
 * streams progress, a kill -9 of the daemon mid-install resumes after the restart, Ctrl-C detaches,
 * cancel stops, status --watch follows.
 */
class TechnicianOnALiveBoxTest {
    static final TestPki PKI = new TestPki();
    static final int CHUNK = 64 * 1024;
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path tmp;
    Path conf;
    Path socket;
    Path bundle;
    RangeFileServer server;
    FaultProxy proxy;
    DaemonProcess daemon;

    RsuAgentCliTest.Run agent(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--config";
        all[1] = conf.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return RsuAgentCliTest.cli(all);
    }

    @BeforeEach
    void unit() throws Exception {
        Path ca = tmp.resolve("ca.pem");
        Files.writeString(ca, TestPki.pem("CERTIFICATE", PKI.root.cert().getEncoded()));
        RsuAgentCliTest.Run r = RsuAgentCliTest.cli("sim-init", tmp.resolve("rsu-9").toString(), "--variant", "rsu-a1", "--slot-size", "4MiB", "--keyring", ca.toString(),
                "--release", "1.2.0");
        assertThat(r.code()).as(r.err()).isZero();
        conf = tmp.resolve("rsu-9/agent.conf");
        socket = tmp.resolve("rsu-9/control.sock");
        Path www = Files.createDirectories(tmp.resolve("www"));
        bundle = new BundleBuilder(www).signedBy(PKI, PKI.signer).image("rootfs", 24 * CHUNK - 100).chunkSize(CHUNK).build("b.rsub");
        server = RangeFileServer.start(www);
        proxy = FaultProxy.start(server.port());
    }

    @AfterEach
    void stop() throws Exception {
        if (daemon != null) daemon.close();
        proxy.close();
        server.close();
    }

    String url() {
        return proxy.uri() + "/b.rsub";
    }

    void startDaemon() throws Exception {
        daemon = DaemonProcess.start(conf, socket, tmp.resolve("daemon-" + System.nanoTime() + ".log"));
    }

    JsonNode status() throws Exception {
        RsuAgentCliTest.Run st = agent("status", "--json");
        assertThat(st.code()).as(st.err()).isZero();
        return JSON.readTree(st.out());
    }

    @Test
    void everySubcommandGoesThroughTheRunningDaemon() throws Exception {
        startDaemon();
        JsonNode st = status();
        assertThat(st.path("daemon").asBoolean()).as("answered by the daemon").isTrue();
        assertThat(st.path("state").asText()).isEqualTo("idle");
        RsuAgentCliTest.Run human = agent("status");
        assertThat(human.out()).contains("state:    idle").contains("slot A:   good      1.2.0").contains("(running)");
        RsuAgentCliTest.Run slots = agent("slots", "--json");
        assertThat(JSON.readTree(slots.out()).get(0).path("release").asText()).isEqualTo("1.2.0");

        RsuAgentCliTest.Run lock = agent("lock", "--reason", "radio swap");
        assertThat(lock.code()).as(lock.err()).isZero();
        assertThat(lock.out()).contains("locked: activations are held until 'rsu-agent unlock' (radio swap)");
        assertThat(Files.readString(tmp.resolve("rsu-9/state/technician.lock"))).contains("radio swap").contains("\"by\" : \"root\"");
        assertThat(agent("unlock", "--reason", "done").out()).contains("unlocked");
        assertThat(agent("unlock").out()).contains("was not locked");

        RsuAgentCliTest.Run health = agent("health", "--json");
        assertThat(health.code()).as(health.err()).isZero();
        assertThat(JSON.readTree(health.out()).path("healthy").asBoolean()).isTrue();

        Path diag = tmp.resolve("diag.tar.gz");
        RsuAgentCliTest.Run d = agent("diag", "collect", "-o", diag.toString());
        assertThat(d.code()).as(d.err()).isZero();
        assertThat(Files.size(diag)).isGreaterThan(100);
        try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(diag))) {
            assertThat(in.readAllBytes().length).as("a whole gzip stream came through the socket").isGreaterThan(512);
        }

        RsuAgentCliTest.Run nothing = agent("cancel");
        assertThat(nothing.code()).isEqualTo(AgentExit.FAILED.code());
        assertThat(nothing.err().trim()).startsWith("NOTHING_TO_CANCEL: ");

        // The USB-stick case: a file, while the daemon holds the state directory. Before: LOCKED, exit 5.
        RsuAgentCliTest.Run install = agent("install", bundle.toString(), "--download-only");
        assertThat(install.code()).as(install.err()).isZero();
        assertThat(install.out()).contains("verified: release 2.4.0 on slot B (download only").contains("payload " + (24 * CHUNK - 100) + " bytes");
        assertThat(status().path("state").asText()).isEqualTo("verified");

        RsuAgentCliTest.Run rollback = agent("rollback", "--reason", "wrong bundle", "--yes");
        assertThat(rollback.code()).as(rollback.err()).isZero();
        assertThat(rollback.out()).contains("never activated");
        RsuAgentCliTest.Run again = agent("activate", "--now");
        assertThat(again.code()).isEqualTo(3);
        assertThat(again.err().trim()).startsWith("NOTHING_TO_ACTIVATE: ");

        assertThat(agent("install", bundle.toString(), "--download-only").code()).isZero();
        RsuAgentCliTest.Run activate = agent("activate", "--now", "--reason", "field test");
        assertThat(activate.code()).as(activate.err()).isZero();
        assertThat(activate.out()).contains("trial boot of slot B set (3 tries); rebooting");
        // the daemon stops for the reboot, as on a box
        assertThat(daemon.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(daemon.output()).contains("stopped for a reboot");
        // no daemon now: the same command works on the state directory
        JsonNode after = status();
        assertThat(after.has("daemon")).isFalse();
        assertThat(after.path("state").asText()).isEqualTo("activating");
    }

    @Test
    void installThroughTheDaemonStreamsProgressAsJsonLines() throws Exception {
        startDaemon();
        proxy.throttleAll(512 * 1024);
        RsuAgentCliTest.Run r = agent("install", url(), "--download-only", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> lines = new ArrayList<>();
        for (String l : r.out().lines().toList()) lines.add(JSON.readTree(l));
        List<JsonNode> progress = lines.stream().filter(n -> n.path("type").asText().equals("progress")).map(n -> n.path("progress")).toList();
        assertThat(progress).as("several progress reports over ~3 s").hasSizeGreaterThanOrEqualTo(4);
        int lastChunks = -1;
        for (JsonNode p : progress) {
            assertThat(p.path("chunksVerified").asInt()).isGreaterThanOrEqualTo(lastChunks);
            lastChunks = p.path("chunksVerified").asInt();
            assertThat(p.path("chunksTotal").asInt()).isEqualTo(24);
            assertThat(p.path("payloadBytes").asLong()).isEqualTo(24 * CHUNK - 100);
            assertThat(p.has("resumedFromChunk")).isTrue();
        }
        JsonNode mid = progress.get(progress.size() / 2);
        assertThat(mid.path("bytesPerSecond").asLong()).as("rate measured").isBetween(100_000L, 2_000_000L);
        assertThat(mid.path("etaSeconds").isNumber()).as("ETA known mid-way").isTrue();
        JsonNode result = lines.get(lines.size() - 1);
        assertThat(result.path("type").asText()).isEqualTo("result");
        assertThat(result.path("lines").get(0).asText()).startsWith("verified: release 2.4.0 on slot B");
        assertThat(result.at("/status/state").asText()).isEqualTo("verified");
        System.out.printf("install through the daemon: %d progress reports, mid-way rate %d B/s, eta %d s%n", progress.size(),
                mid.path("bytesPerSecond").asLong(), mid.path("etaSeconds").asLong());
    }

    /** Chunks the journal names (its binding line, the sync markers and the fetched-bytes lines "f N" are not chunks). */
    private static int journaledChunks(Path journal) throws java.io.IOException {
        return (int) Files.readAllLines(journal).stream().skip(1).filter(l -> !l.equals("sync") && !l.startsWith("f ")).count();
    }

    @Test
    void killDashNineOfTheDaemonDuringASocketInstallResumesAfterTheRestart() throws Exception {
        startDaemon();
        proxy.throttleAll(128 * 1024);
        CompletableFuture<RsuAgentCliTest.Run> first = CompletableFuture.supplyAsync(() -> agent("install", url(), "--download-only"));
        Path journal = tmp.resolve("rsu-9/state/download.journal");
        // the journal: its binding line, then one line per chunk written to the slot (and "f N" after each fetch) and a "sync"
        // line after each fsync of a group (4 chunks), when progress.json is written too
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(journal) && journaledChunks(journal) >= 4);
        daemon.kill(); // SIGKILL mid-download
        assertThat(daemon.process.exitValue()).isEqualTo(137);
        RsuAgentCliTest.Run cut = first.get(30, TimeUnit.SECONDS);
        assertThat(cut.code()).isEqualTo(AgentExit.FAILED.code());
        assertThat(cut.err().trim()).startsWith("DAEMON_GONE: ");
        assertThat(socket).as("the killed daemon's socket file stays behind").exists();
        int journaled = journaledChunks(journal);

        startDaemon(); // replaces the stale socket file; the engine resumes the install on its own (still on the slow link)
        CompletableFuture<RsuAgentCliTest.Run> again = CompletableFuture.supplyAsync(() -> agent("install", url(), "--download-only", "--json"));
        await().atMost(Duration.ofSeconds(30)).until(() -> journaledChunks(journal) > journaled);
        proxy.stopThrottling();
        RsuAgentCliTest.Run resumed = again.get(60, TimeUnit.SECONDS);
        assertThat(resumed.code()).as(resumed.err()).isZero();
        List<JsonNode> lines = new ArrayList<>();
        for (String l : resumed.out().lines().toList()) lines.add(JSON.readTree(l));
        assertThat(lines.get(0).path("note").asText()).startsWith("resuming the interrupted install of " + url());
        JsonNode firstProgress = lines.stream().filter(n -> n.path("type").asText().equals("progress")).findFirst().orElseThrow().path("progress");
        assertThat(firstProgress.path("resumedFromChunk").asInt()).as("resumed where the journal was: %s", resumed.out()).isGreaterThanOrEqualTo(journaled);
        assertThat(lines.get(lines.size() - 1).path("lines").get(0).asText()).startsWith("verified: release 2.4.0 on slot B");
        JsonNode st = status();
        assertThat(st.path("state").asText()).isEqualTo("verified");
        assertThat(st.at("/download/bytesFetched").asLong()).as("resumed, not fetched again from zero")
                // at most what was in flight and not yet journaled at the kill (3 written, 1 checked, 1 prefetched) and the header again
                .isLessThan(Files.size(bundle) + 6L * CHUNK + 32 * 1024);
        byte[] image = Files.readAllBytes(tmp.resolve("www/b.rsub.rootfs.img"));
        assertThat(java.util.Arrays.copyOf(Files.readAllBytes(tmp.resolve("rsu-9/slot-b.img")), image.length)).isEqualTo(image);
    }

    @Test
    void ctrlCDetachesTheInstallGoesOnAndCancelStopsTheNextOne() throws Exception {
        startDaemon();
        proxy.throttleAll(256 * 1024);
        Path out = tmp.resolve("client.log");
        Process client = new ProcessBuilder(DaemonProcess.java(), "-cp", System.getProperty("java.class.path"), RsuAgent.class.getName(),
                "--config", conf.toString(), "install", url(), "--download-only").redirectErrorStream(true).redirectOutput(out.toFile()).start();
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(out).contains("progress "));
        new ProcessBuilder("kill", "-INT", Long.toString(client.pid())).start().waitFor(); // Ctrl-C
        assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(out)).contains("detached: the install goes on in the daemon");
        assertThat(status().path("state").asText()).as("still installing after the client left").isIn("pending", "downloading");
        proxy.stopThrottling();
        await().atMost(Duration.ofSeconds(60)).until(() -> status().path("state").asText().equals("verified"));

        Files.copy(bundle, tmp.resolve("www/c.rsub"));
        proxy.throttleAll(64 * 1024);
        CompletableFuture<RsuAgentCliTest.Run> second = CompletableFuture.supplyAsync(() -> agent("install", proxy.uri() + "/c.rsub", "--download-only"));
        await().atMost(Duration.ofSeconds(60)).until(() -> status().path("state").asText().equals("downloading"));
        RsuAgentCliTest.Run cancel = agent("cancel", "--reason", "wrong stick");
        assertThat(cancel.code()).as(cancel.err()).isZero();
        assertThat(cancel.out()).contains("cancelled: the install stopped");
        RsuAgentCliTest.Run cancelled = second.get(30, TimeUnit.SECONDS);
        assertThat(cancelled.code()).isEqualTo(AgentExit.FAILED.code());
        assertThat(cancelled.err().trim()).startsWith("CANCELLED: ");
        assertThat(status().path("state").asText()).isEqualTo("idle");
    }

    @Test
    void statusWatchFollowsTheEngineUntilTheDaemonStops() throws Exception {
        startDaemon();
        StringWriter watched = new StringWriter();
        CompletableFuture<Integer> watch = CompletableFuture.supplyAsync(() -> RsuAgent.run(
                new String[] {"--config", conf.toString(), "status", "--watch"}, new PrintWriter(watched, true), new PrintWriter(new StringWriter(), true)));
        await().atMost(Duration.ofSeconds(30)).until(() -> watched.toString().contains("idle"));
        proxy.throttleAll(512 * 1024);
        assertThat(agent("install", url(), "--download-only").code()).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> watched.toString().contains("verified 2.4.0  24/24 chunks"));
        assertThat(watched.toString()).containsPattern("downloading 2.4.0  [0-9]+/24 chunks");
        daemon.close();
        assertThat(watch.get(30, TimeUnit.SECONDS)).as("the watch ends with the daemon").isZero();
        assertThat(watched.toString()).contains("the daemon is stopping; watch ended");
    }
}
