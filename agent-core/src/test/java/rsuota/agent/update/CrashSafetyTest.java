package rsuota.agent.update;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import rsuota.agent.AgentError;
import rsuota.agent.cli.RsuAgent;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.net.Fault;
import rsuota.fixtures.net.FaultProxy;
import rsuota.fixtures.net.RangeFileServer;
import rsuota.fixtures.pki.TestPki;
import rsuota.hal.boot.Slot;

/**
 * Power cuts: a crash injected at every persisted transition and durable chunk, and at random byte
 * offsets, then a fresh engine over the same directory; plus a real kill -9 of a child JVM. Every
 * run ends verified or cleanly resumable, and never with the new slot bootable.
 */
class CrashSafetyTest {
    static final int CHUNK = 64 * 1024;
    static final int CHUNKS = 8;
    @TempDir Path tmp;
    RangeFileServer server;
    Path bundle;
    byte[] image;

    @BeforeEach
    void setUp() throws Exception {
        Path www = Files.createDirectories(tmp.resolve("www"));
        bundle = new BundleBuilder(www).signedBy(EngineFixture.PKI, EngineFixture.PKI.signer).image("rootfs", CHUNKS * CHUNK - 100)
                .chunkSize(CHUNK).build("c.rsub");
        image = Files.readAllBytes(www.resolve("c.rsub.rootfs.img"));
        server = RangeFileServer.start(www);
    }

    @AfterEach
    void tearDown() throws Exception {
        server.close();
    }

    static Stream<String> crashPoints() {
        List<String> points = new ArrayList<>(List.of("persisted:PENDING", "persisted:DOWNLOADING", "persisted:VERIFIED"));
        for (int c = 0; c < CHUNKS; c += 3) {
            points.add("chunk-written:0:" + c);
            points.add("chunk-journaled:0:" + c);
        }
        points.add("chunk-written:0:" + (CHUNKS - 1));
        return points.stream();
    }

    @ParameterizedTest(name = "power cut at {0}")
    @MethodSource("crashPoints")
    void crashAtEveryPersistedStepResumes(String point) throws Exception {
        EngineFixture fx = new EngineFixture(tmp.resolve("dev"), 2 * 1024 * 1024);
        fx.hook = new CrashHook() {
            @Override
            public void at(String p) {
                if (p.equals(point)) throw new SimulatedCrash(p);
            }
        };
        assertThat(runUntilCrash(fx)).as("crash point reached").isTrue();
        assertSafe(fx);
        fx.hook = CrashHook.NONE;
        UpdateEngine again = fx.engine();
        if (!again.state().state().inFlight() && again.state().state() != UpdateState.VERIFIED) {
            again.order(fx.order(server.uri("/c.rsub").toString(), true));
        }
        assertVerified(fx, again.run());
    }

    /**
     * The header verified before the download is handed to the fill in the same process; after a
     * restart it is read from the state directory and verified again: a kept header changed in
     * between is refused before any payload byte is written.
     */
    @Test
    void aKeptHeaderChangedAcrossARestartIsVerifiedAgainAndRefused() throws Exception {
        EngineFixture fx = new EngineFixture(tmp.resolve("dev"), 2 * 1024 * 1024);
        fx.hook = new CrashHook() {
            @Override
            public void at(String p) {
                if (p.equals("persisted:DOWNLOADING")) throw new SimulatedCrash(p);
            }
        };
        assertThat(runUntilCrash(fx)).as("crash point reached").isTrue();
        Path kept = fx.stateDir.resolve(DownloadSteps.HEADER_FILE);
        byte[] head = Files.readAllBytes(kept);
        int at = new String(head, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("\"release\":\"") + 11;
        head[at] ^= 1; // one digit of the release name: the JSON still parses, the signature no longer holds
        Files.write(kept, head);
        fx.hook = CrashHook.NONE;
        EngineState s = fx.engine().run();
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).as("%s", s.lastError()).isEqualTo(AgentError.SIGNATURE_INVALID.wire());
        assertThat(fx.slotBytes(Slot.B, image.length)).as("nothing of the payload written").containsOnly((byte) 0);
        assertSafe(fx);
    }

    @Test
    void crashesAtRandomByteOffsetsResume() throws Exception {
        Random rnd = new Random(20261127);
        for (int run = 0; run < 12; run++) {
            EngineFixture fx = new EngineFixture(tmp.resolve("rnd-" + run), 2 * 1024 * 1024);
            long payload = CHUNKS * CHUNK;
            long cutAt = 1 + (long) (rnd.nextDouble() * payload);
            long[] seen = {0};
            fx.hook = new CrashHook() {
                @Override
                public void bytes(long fetched) {
                    seen[0] = fetched;
                    if (fetched >= cutAt) throw new SimulatedCrash("byte " + fetched);
                }
            };
            boolean crashed = runUntilCrash(fx);
            assertSafe(fx);
            fx.hook = CrashHook.NONE;
            // several crashes in a row on the same directory are fine too
            UpdateEngine e = fx.engine();
            if (crashed && rnd.nextBoolean()) {
                long second = seen[0] + CHUNK;
                fx.hook = new CrashHook() {
                    @Override
                    public void bytes(long fetched) {
                        if (fetched >= second) throw new SimulatedCrash("second cut");
                    }
                };
                try {
                    fx.engine().run();
                } catch (CrashHook.SimulatedCrash expected) {
                    // second power cut
                }
                fx.hook = CrashHook.NONE;
                e = fx.engine();
            }
            assertVerified(fx, e.state().state() == UpdateState.VERIFIED ? e.state() : e.run());
        }
    }

    /**
     * Format 2 with reuse: slot A runs the old image, power cuts at random byte offsets of the
     * compressed fetches and at random chunks copied from slot A; every run ends verified.
     */
    @Test
    void crashesDuringAFormat2InstallThatReusesTheActiveSlotResume() throws Exception {
        Random rnd = new Random(20261204);
        byte[] old = rsuota.agent.download.DeltaFillTest.text(new Random(3), 1_200_000);
        byte[] neu = old.clone();
        for (int i = 0; i < 6; i++) {
            byte[] patch = rsuota.agent.download.DeltaFillTest.text(new Random(100 + i), 3000);
            System.arraycopy(patch, 0, neu, 50_000 + i * 190_000, patch.length);
        }
        Path www = tmp.resolve("www");
        Files.write(www.resolve("v2.img"), neu);
        new BundleBuilder(www).signedBy(EngineFixture.PKI, EngineFixture.PKI.signer).imageFile("rootfs", www.resolve("v2.img"))
                .format2(rsuota.bundle.Chunking.DEFAULT).build("v2.rsub");
        for (int run = 0; run < 8; run++) {
            EngineFixture fx = new EngineFixture(tmp.resolve("v2-" + run), 2 * 1024 * 1024);
            Files.write(fx.dir.resolve(rsuota.hal.storage.FileSlotStorage.SIMULATED_A), java.util.Arrays.copyOf(old, 2 * 1024 * 1024));
            boolean atByte = run % 2 == 0;
            long cutAt = 1 + rnd.nextInt(60_000);
            int reusedBefore = 1 + rnd.nextInt(10);
            int[] reused = {0};
            fx.hook = new CrashHook() {
                @Override
                public void bytes(long fetched) {
                    if (atByte && fetched >= cutAt) throw new SimulatedCrash("byte " + fetched);
                }

                @Override
                public void at(String p) {
                    if (!atByte && p.startsWith("chunk-reused:") && ++reused[0] == reusedBefore) throw new SimulatedCrash(p);
                }
            };
            boolean crashed = false;
            try {
                UpdateEngine e = fx.engine();
                e.order(fx.order(server.uri("/v2.rsub").toString(), true));
                e.run();
            } catch (CrashHook.SimulatedCrash expected) {
                crashed = true;
            }
            assertThat(crashed).as("run %d: the power went", run).isTrue();
            assertThat(fx.boot.state().nextBoot()).isEqualTo(Slot.A);
            fx.hook = CrashHook.NONE;
            UpdateEngine e = fx.engine();
            EngineState end = e.state().state() == UpdateState.VERIFIED ? e.state() : e.run();
            assertThat(end.state()).as("run %d: %s", run, end.lastError()).isEqualTo(UpdateState.VERIFIED);
            assertThat(fx.slotBytes(Slot.B, neu.length)).isEqualTo(neu);
        }
    }

    /** Starts an install and lets the hook kill it; returns whether it crashed. */
    private boolean runUntilCrash(EngineFixture fx) throws Exception {
        try {
            UpdateEngine e = fx.engine();
            e.order(fx.order(server.uri("/c.rsub").toString(), true));
            e.run();
            return false;
        } catch (CrashHook.SimulatedCrash expected) {
            return true;
        }
    }

    /**
     * Whatever instant the power went, the box boots the old slot, and a slot holding any byte of
     * the new release is not bootable (A/B order: mark bad before the first write).
     */
    private void assertSafe(EngineFixture fx) throws Exception {
        assertThat(fx.boot.state().nextBoot()).isEqualTo(Slot.A);
        boolean touched = false;
        for (byte b : fx.slotBytes(Slot.B, image.length)) {
            if (b != 0) {
                touched = true;
                break;
            }
        }
        if (touched) assertThat(fx.boot.state().triesLeft().get(Slot.B)).as("written slot B is unbootable").isZero();
        assertThat(new StateStore(fx.stateDir).load(java.time.Instant.now()).slot("B").status()).isNotEqualTo("good");
    }

    private void assertVerified(EngineFixture fx, EngineState s) throws Exception {
        assertThat(s.state()).as("%s", s.lastError()).isEqualTo(UpdateState.VERIFIED);
        assertThat(fx.slotBytes(Slot.B, image.length)).isEqualTo(image);
        assertSafe(fx);
        assertThat(fx.boot.state().triesLeft().get(Slot.B)).as("verified but not activated: not bootable").isZero();
    }

    @Test
    void realKillDashNineOfTheAgentProcessThenResume() throws Exception {
        Path pki = tmp.resolve("ca.pem");
        Files.writeString(pki, TestPki.pem("CERTIFICATE", EngineFixture.PKI.root.cert().getEncoded()));
        Path devDir = tmp.resolve("rsu-kill");
        StringWriter out = new StringWriter();
        assertThat(RsuAgent.run(new String[] {"sim-init", devDir.toString(), "--variant", "rsu-a1", "--slot-size", "2MiB",
                "--keyring", pki.toString()}, new PrintWriter(out), new PrintWriter(new StringWriter()))).isZero();
        Path conf = devDir.resolve("agent.conf");
        // a slow link: 64 KiB/s, so the child is mid-download when it is killed
        try (FaultProxy proxy = FaultProxy.start(server.port())) {
            proxy.setDefaultFault(Fault.throttle(64 * 1024));
            String url = proxy.uri() + "/c.rsub";
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), RsuAgent.class.getName(),
                    "--config", conf.toString(), "install", url, "--download-only")
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
            Path journal = devDir.resolve("state").resolve("download.journal");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && (!Files.exists(journal) || Files.readAllLines(journal).size() < 3)) {
                Thread.sleep(20); // polling a file another process writes; bounded by the deadline
            }
            assertThat(Files.readAllLines(journal).size()).as("child journaled chunks before the kill").isGreaterThanOrEqualTo(3);
            child.destroyForcibly(); // SIGKILL
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).isEqualTo(137);
            proxy.setDefaultFault(Fault.none());
            StringWriter o2 = new StringWriter();
            StringWriter e2 = new StringWriter();
            int code = RsuAgent.run(new String[] {"--config", conf.toString(), "install", url, "--download-only"},
                    new PrintWriter(o2, true), new PrintWriter(e2, true));
            assertThat(code).as(e2.toString()).isZero();
            assertThat(o2.toString()).contains("resuming the interrupted install").contains("verified: release 2.4.0 on slot B");
        }
        byte[] slotB = Files.readAllBytes(devDir.resolve("slot-b.img"));
        assertThat(java.util.Arrays.copyOf(slotB, image.length)).isEqualTo(image);
    }
}
