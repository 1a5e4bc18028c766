package rsuota.agent.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.download.DeltaFillTest;
import rsuota.agent.report.EventSink;
import rsuota.bundle.Chunking;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.net.RangeFileServer;
import rsuota.hal.boot.Slot;
import rsuota.wire.MqttEvent;

/**
 * Reuse of the running slot over an install's whole life: the bytes reused are counted over every
 * run of a download (a kill mid-install neither loses nor double-counts them), and a committed
 * release's slot is indexed in the background so that the next install reuses it without first
 * reading the whole slot. Real HTTP Range server on loopback, real slot files, format 2 bundles.
 */
class SlotReuseLifecycleTest {
    static final int SLOT = 8 * 1024 * 1024;
    @TempDir Path tmp;
    Path www;
    RangeFileServer server;
    byte[] oldImage;
    byte[] newImage;

    @BeforeEach
    void setUp() throws Exception {
        www = Files.createDirectories(tmp.resolve("www"));
        oldImage = DeltaFillTest.text(new Random(1), 3 * 1024 * 1024);
        newImage = edit(oldImage, 1 << 20, DeltaFillTest.text(new Random(2), 20_000));
        server = RangeFileServer.start(www);
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    /** {@code base} with {@code insert} inserted at {@code at}: a minor release. */
    static byte[] edit(byte[] base, int at, byte[] insert) {
        ByteArrayOutputStream n = new ByteArrayOutputStream();
        n.write(base, 0, at);
        n.write(insert, 0, insert.length);
        n.write(base, at, base.length - at);
        return n.toByteArray();
    }

    String bundle(String name, String release, byte[] image, boolean format2) throws Exception {
        Path img = www.resolve(name + ".img");
        Files.write(img, image);
        BundleBuilder b = new BundleBuilder(www).signedBy(EngineFixture.PKI, EngineFixture.PKI.signer).release(release).imageFile("rootfs", img);
        (format2 ? b.format2(Chunking.DEFAULT) : b.chunkSize(64 * 1024)).build(name);
        return server.uri("/" + name).toString();
    }

    EngineFixture unitRunning(String name, byte[] image) throws Exception {
        EngineFixture fx = new EngineFixture(tmp.resolve(name), SLOT);
        try (FileChannel ch = fx.storage.openForWrite(Slot.A)) {
            ch.write(ByteBuffer.wrap(image), 0);
        }
        return fx;
    }

    static MqttEvent.DownloadBytes verifiedCost(EngineFixture fx) {
        EventSink.Draft verified = fx.events.stream().filter(d -> "verified".equals(d.state())).reduce((a, b) -> b).orElseThrow();
        return MqttEvent.DownloadBytes.in(verified.detail()).orElseThrow();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> statusDownload(EngineFixture fx) throws Exception {
        return (Map<String, Object>) StatusView.read(fx.stateDir, fx.boot, fx.clock.instant()).get("download");
    }

    @Test
    void bytesReusedCountOverEveryRunOfAnInstallKilledMidway() throws Exception {
        String url = bundle("r2.rsub", "2.4.0", newImage, true);
        // reference: the same install on an identical unit, never interrupted
        EngineFixture ref = unitRunning("ref", oldImage);
        UpdateEngine clean = ref.engine();
        clean.order(ref.order(url, true));
        assertThat(clean.run().state()).isEqualTo(UpdateState.VERIFIED);
        MqttEvent.DownloadBytes once = verifiedCost(ref);
        assertThat(once.reused()).as("most of the image is on slot A").isGreaterThan(newImage.length * 9L / 10);

        EngineFixture fx = unitRunning("dev", oldImage);
        AtomicInteger copied = new AtomicInteger();
        fx.hook = new CrashHook() {
            @Override
            public void at(String point) {
                // the 20th chunk copied from slot A is written and journaled (not yet fsync'd): kill -9
                if (point.startsWith("chunk-reused:") && copied.incrementAndGet() == 20) throw new SimulatedCrash(point);
            }
        };
        UpdateEngine first = fx.engine();
        first.order(fx.order(url, true));
        assertThatThrownBy(first::run).isInstanceOf(CrashHook.SimulatedCrash.class);
        fx.hook = CrashHook.NONE;
        UpdateEngine again = fx.engine();
        assertThat(again.run().state()).isEqualTo(UpdateState.VERIFIED);
        assertThat(fx.slotBytes(Slot.B, newImage.length)).isEqualTo(newImage);

        assertThat(again.lastFill().chunksReused()).as("the resumed run copied only what the first had not").isPositive()
                .isLessThan(again.lastFill().totalChunksReused());
        MqttEvent.DownloadBytes twice = verifiedCost(fx);
        assertThat(twice.reused()).as("reused over both runs, each chunk once").isEqualTo(once.reused());
        assertThat(twice.fetched()).as("the kill cost at most the header and one maximal chunk again")
                .isBetween(once.fetched(), once.fetched() + rsuota.agent.download.SlotFiller.FIRST_HEADER_FETCH + Chunking.DEFAULT.max());
        Map<String, Object> dl = statusDownload(fx);
        assertThat(dl.get("bytesReused")).isEqualTo(once.reused());
        assertThat(dl.get("chunksReused")).isEqualTo(again.lastFill().totalChunksReused());
        assertThat(dl.get("bytesFetched")).isEqualTo(twice.fetched());
    }

    /** Installs {@code url}, activates it, reboots into it and runs the health window until the commit. */
    static UpdateEngine installAndCommit(EngineFixture fx, String url) throws Exception {
        return installAndCommit(fx, url, () -> { });
    }

    interface Step {
        void run() throws Exception;
    }

    /** The same, with {@code beforeReboot} run once the trial boot is set. */
    static UpdateEngine installAndCommit(EngineFixture fx, String url, Step beforeReboot) throws Exception {
        UpdateEngine e = fx.engine();
        e.order(fx.order(url, false));
        assertThat(e.run().state()).isEqualTo(UpdateState.ACTIVATING);
        beforeReboot.run();
        fx.powerOn();
        e = fx.engine();
        EngineState s = e.run();
        for (int i = 0; i < 30 && s.state() == UpdateState.COMMITTING; i++) {
            fx.clock.advance(Duration.ofSeconds(10));
            s = e.run();
        }
        assertThat(s.state()).as("%s", s.lastError()).isEqualTo(UpdateState.ACTIVATED);
        return e;
    }

    /** A minor release after 2.4.0, downloaded to slot A while slot B runs: most of it is copied from B. */
    UpdateEngine installNextMinorRelease(EngineFixture fx) throws Exception {
        byte[] r3 = edit(newImage, 2 << 20, DeltaFillTest.text(new Random(3), 8_000));
        UpdateEngine next = fx.engine();
        next.order(fx.order(bundle("r3.rsub", "2.5.0", r3, true), true));
        assertThat(next.run().state()).isEqualTo(UpdateState.VERIFIED);
        assertThat(fx.slotBytes(Slot.A, r3.length)).isEqualTo(r3);
        assertThat(next.lastFill().bytesReused()).isGreaterThan(r3.length * 9L / 10);
        return next;
    }

    static CommitIndexer.Outcome awaitIndex(UpdateEngine e) throws Exception {
        return e.indexer().last().get(60, TimeUnit.SECONDS);
    }

    Path index(EngineFixture fx) {
        return fx.stateDir.resolve("active-slot.index");
    }

    @Test
    void aCommitIndexesTheNewSlotAndTheNextInstallReusesItWithoutReadingTheSlot() throws Exception {
        EngineFixture fx = unitRunning("dev", oldImage);
        UpdateEngine committed = installAndCommit(fx, bundle("r2.rsub", "2.4.0", newImage, true));
        assertThat(committed.lastFill()).as("the commit's engine is a fresh process").isNull();
        CommitIndexer.Outcome o = awaitIndex(committed);
        assertThat(o.result()).as(o.detail()).isEqualTo(CommitIndexer.Result.BUILT);
        assertThat(o.slot()).isEqualTo(Slot.B);
        assertThat(Files.readAllLines(index(fx)).get(0)).as("bound to the new active slot").startsWith("rsu-index-1 B " + SLOT + " ");
        Object key = Files.readAttributes(index(fx), java.nio.file.attribute.BasicFileAttributes.class).fileKey();

        // the next minor release goes to slot A, reusing slot B's chunks through the committed index
        UpdateEngine next = installNextMinorRelease(fx);
        assertThat(next.lastFill().activeIndexBuilt()).as("slot B was not read to index it again").isFalse();
        assertThat(next.lastFill().notes()).isEmpty();
        assertThat(Files.readAttributes(index(fx), java.nio.file.attribute.BasicFileAttributes.class).fileKey())
                .as("the index file was not rewritten").isEqualTo(key);
    }

    @Test
    void anIndexWhoseSlotChangedSinceTheCommitIsRebuiltByTheNextInstall() throws Exception {
        EngineFixture fx = unitRunning("dev", oldImage);
        UpdateEngine committed = installAndCommit(fx, bundle("r2.rsub", "2.4.0", newImage, true));
        assertThat(awaitIndex(committed).result()).isEqualTo(CommitIndexer.Result.BUILT);
        String binding = Files.readAllLines(index(fx)).get(0);
        // slot B changes after the commit (its tail, past the image: where the fingerprint looks)
        try (FileChannel ch = fx.storage.openForWrite(Slot.B)) {
            ch.write(ByteBuffer.wrap("rewritten".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), SLOT - 100);
        }
        UpdateEngine next = installNextMinorRelease(fx);
        assertThat(next.lastFill().activeIndexBuilt()).as("stale index: slot B read again").isTrue();
        assertThat(Files.readAllLines(index(fx)).get(0)).startsWith("rsu-index-1 B ").isNotEqualTo(binding);
    }

    @Test
    void aFormat1ReleaseHasNothingToIndexAndItsCommitIsUnaffected() throws Exception {
        EngineFixture fx = unitRunning("dev", oldImage);
        UpdateEngine committed = installAndCommit(fx, bundle("r2.rsub", "2.4.0", newImage, false));
        CommitIndexer.Outcome o = awaitIndex(committed);
        assertThat(o.result()).isEqualTo(CommitIndexer.Result.NOTHING_TO_INDEX);
        assertThat(o.detail()).contains("format 1");
        assertThat(index(fx)).doesNotExist();
    }

    @Test
    void anIndexThatCannotBeBuiltIsLoggedAndTheCommitStands() throws Exception {
        EngineFixture fx = unitRunning("dev", oldImage);
        // the kept header (the committed release's chunking) is lost before the commit
        UpdateEngine e = installAndCommit(fx, bundle("r2.rsub", "2.4.0", newImage, true), () -> Files.write(
                fx.stateDir.resolve(DownloadSteps.HEADER_FILE), "not a bundle header".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        assertThat(e.state().slot("B").status()).as("committed all the same").isEqualTo("good");
        CommitIndexer.Outcome o = awaitIndex(e);
        assertThat(o.result()).isEqualTo(CommitIndexer.Result.FAILED);
        assertThat(o.detail()).contains(DownloadSteps.HEADER_FILE);
        assertThat(Files.readAllLines(index(fx)).get(0)).as("still the install's index of slot A: stale, the next install rebuilds it on first need")
                .startsWith("rsu-index-1 A ");
    }

    /**
     * What a unit whose slot holds {@code active} copies instead of fetching for {@code bundle}, and
     * the stored bytes it fetches: the planner's rule, recomputed here.
     */
    static long[] expectedReuse(Path bundle, byte[] active) throws Exception {
        rsuota.bundle.ManifestImage im = rsuota.bundle.BundleHeader.read(bundle).manifest().images().get(0);
        java.util.Set<String> have = new java.util.HashSet<>();
        im.chunking().split(java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(active)), active.length,
                (at, buf, off, len) -> have.add(rsuota.bundle.Sha256.of(buf, off, len)));
        rsuota.bundle.ChunkLayout l = rsuota.bundle.ChunkLayout.of(im);
        java.util.Set<String> written = new java.util.HashSet<>();
        long reused = 0;
        long fetched = 0;
        for (int c = 0; c < l.count(); c++) {
            if (have.contains(l.identity(c)) || !written.add(l.identity(c))) reused += l.length(c);
            else fetched += l.storedLength(c);
        }
        return new long[] {reused, fetched};
    }

    @Test
    void aRealKillDashNineMidDeltaInstallCountsEveryCopiedChunkOnceInStatus() throws Exception {
        // a minor release: an insertion at 1 MiB and 200 KB of new text at 2 MiB, so the fetches straddle copies
        byte[] neu = edit(edit(oldImage, 1 << 20, DeltaFillTest.text(new Random(2), 20_000)), 2 << 20,
                DeltaFillTest.text(new Random(4), 200_000));
        bundle("k.rsub", "2.4.0", neu, true);
        Path pki = tmp.resolve("ca.pem");
        Files.writeString(pki, rsuota.fixtures.pki.TestPki.pem("CERTIFICATE", EngineFixture.PKI.root.cert().getEncoded()));
        Path devDir = tmp.resolve("rsu-kill");
        java.io.StringWriter out = new java.io.StringWriter();
        assertThat(rsuota.agent.cli.RsuAgent.run(new String[] {"sim-init", devDir.toString(), "--variant", "rsu-a1", "--slot-size", "8MiB",
                "--keyring", pki.toString()}, new java.io.PrintWriter(out), new java.io.PrintWriter(new java.io.StringWriter()))).isZero();
        byte[] slotA = Files.readAllBytes(devDir.resolve("slot-a.img"));
        System.arraycopy(oldImage, 0, slotA, 0, oldImage.length);
        Files.write(devDir.resolve("slot-a.img"), slotA); // the running release 2.3.0
        long[] plan = expectedReuse(www.resolve("k.rsub"), slotA);
        long expected = plan[0];
        assertThat(expected).isGreaterThan(neu.length * 8L / 10);
        Path conf = devDir.resolve("agent.conf");
        Path journal = devDir.resolve("state").resolve("download.journal");
        try (rsuota.fixtures.net.FaultProxy proxy = rsuota.fixtures.net.FaultProxy.start(server.port())) {
            proxy.setDefaultFault(rsuota.fixtures.net.Fault.throttle(32 * 1024)); // slow: the child is mid-download when killed
            String url = proxy.uri() + "/k.rsub";
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), rsuota.agent.cli.RsuAgent.class.getName(),
                    "--config", conf.toString(), "install", url, "--download-only")
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
            try {
                // killed once it has copied chunks and written a fetched run, before it is done
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() ->
                        Files.exists(journal) && Files.readAllLines(journal).stream().anyMatch(x -> x.endsWith(" r"))
                                && Files.readAllLines(journal).stream().anyMatch(x -> x.startsWith("f ") && !x.equals("f 0")));
            } finally {
                child.destroyForcibly(); // SIGKILL
            }
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).as("killed, not finished").isEqualTo(137);
            proxy.setDefaultFault(rsuota.fixtures.net.Fault.none());
            java.io.StringWriter o2 = new java.io.StringWriter();
            java.io.StringWriter e2 = new java.io.StringWriter();
            int code = rsuota.agent.cli.RsuAgent.run(new String[] {"--config", conf.toString(), "install", url, "--download-only"},
                    new java.io.PrintWriter(o2, true), new java.io.PrintWriter(e2, true));
            assertThat(code).as(e2.toString()).isZero();
            assertThat(o2.toString()).contains("resuming the interrupted install").contains("verified: release 2.4.0 on slot B");
        }
        assertThat(java.util.Arrays.copyOf(Files.readAllBytes(devDir.resolve("slot-b.img")), neu.length)).isEqualTo(neu);
        java.io.StringWriter st = new java.io.StringWriter();
        assertThat(rsuota.agent.cli.RsuAgent.run(new String[] {"--config", conf.toString(), "status", "--json"}, new java.io.PrintWriter(st, true),
                new java.io.PrintWriter(new java.io.StringWriter()))).isZero();
        com.fasterxml.jackson.databind.JsonNode dl = new com.fasterxml.jackson.databind.ObjectMapper().readTree(st.toString()).path("download");
        assertThat(dl.path("bytesReused").asLong()).as("copied over both runs, each chunk once: %s", dl).isEqualTo(expected);
        assertThat(dl.path("chunksReused").asInt()).isPositive();
        // every missing chunk fetched, plus the header; the kill cost at most the range in flight (one maximal chunk)
        assertThat(dl.path("bytesFetched").asLong()).as("%s", dl).isGreaterThan(plan[1])
                .isLessThanOrEqualTo(plan[1] + 2L * Math.max(rsuota.bundle.BundleHeader.read(www.resolve("k.rsub")).payloadOffset(),
                        rsuota.agent.download.SlotFiller.FIRST_HEADER_FETCH) + Chunking.DEFAULT.max());
    }
}
