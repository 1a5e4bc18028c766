package rsuota.agent.update;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.download.SlotFiller;
import rsuota.bundle.BundleHeader;
import rsuota.bundle.Manifest;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.net.Close;
import rsuota.fixtures.net.Fault;
import rsuota.fixtures.net.FaultProxy;
import rsuota.fixtures.net.RangeFileServer;
import rsuota.hal.boot.Slot;

/** Resume after cuts in the header and mid-chunk, over a real HTTP server behind a fault proxy. */
class DownloadResumeTest {
    static final int CHUNK = 64 * 1024;
    @TempDir Path tmp;
    RangeFileServer server;
    FaultProxy proxy;
    Path bundle;
    Manifest manifest;
    long bundleSize;
    EngineFixture fx;

    @BeforeEach
    void setUp() throws Exception {
        Path www = Files.createDirectories(tmp.resolve("www"));
        bundle = new BundleBuilder(www).signedBy(EngineFixture.PKI, EngineFixture.PKI.signer).image("rootfs", 40 * CHUNK + 1234)
                .chunkSize(CHUNK).build("r2.rsub");
        manifest = BundleHeader.read(bundle).manifest();
        bundleSize = Files.size(bundle);
        server = RangeFileServer.start(www);
        proxy = FaultProxy.start(server.port());
        fx = new EngineFixture(tmp.resolve("dev"), 8 * 1024 * 1024);
    }

    @AfterEach
    void tearDown() throws Exception {
        proxy.close();
        server.close();
    }

    String url() {
        return proxy.uri() + "/r2.rsub";
    }

    void assertVerifiedOnB(UpdateEngine e) throws Exception {
        assertThat(e.state().state()).isEqualTo(UpdateState.VERIFIED);
        assertThat(e.state().slot("B").release()).isEqualTo("2.4.0");
        byte[] img = Files.readAllBytes(bundle.resolveSibling("r2.rsub.rootfs.img"));
        assertThat(fx.slotBytes(Slot.B, img.length)).isEqualTo(img);
        // download-only never touches the boot order: A still boots, B is not bootable
        assertThat(fx.boot.state().nextBoot()).isEqualTo(Slot.A);
        assertThat(fx.boot.state().triesLeft().get(Slot.B)).isZero();
    }

    @Test
    void cleanDownloadFetchesTheBundleOnce() throws Exception {
        UpdateEngine e = fx.engine();
        e.order(fx.order(url(), true));
        e.run();
        assertVerifiedOnB(e);
        assertThat(e.progress().bytesFetched()).isLessThanOrEqualTo(bundleSize + SlotFiller.FIRST_HEADER_FETCH);
    }

    @Test
    void cutsMidChunkResumeWithinOneChunkPerCut() throws Exception {
        int cuts = 5;
        // each of the next 5 connections dies partway through a chunk (header fetch is the first one)
        proxy.enqueue(Fault.cutAfter(40_000, Close.RST));
        for (int i = 0; i < cuts - 1; i++) proxy.enqueue(Fault.cutAfter(3L * CHUNK + 1000 * (i + 1), Close.FIN));
        UpdateEngine e = fx.engine();
        e.order(fx.order(url(), true));
        e.run();
        assertVerifiedOnB(e);
        long fetched = e.progress().bytesFetched();
        assertThat(fetched).as("bytes fetched with %d cuts", cuts)
                .isLessThanOrEqualTo(bundleSize + SlotFiller.FIRST_HEADER_FETCH + (long) cuts * CHUNK);
        long happened = proxy.counters().cuts();
        // a queued fault applies to a new connection; the client may open one it never uses, so not all fire
        assertThat(happened).as("cuts that happened").isGreaterThanOrEqualTo(3);
        assertThat(fx.sleeps).as("each cut is followed by one backoff").hasSize((int) happened);
    }

    @Test
    void cutInTheHeaderIsRetried() throws Exception {
        proxy.enqueue(Fault.cutAfter(100, Close.RST));
        proxy.enqueue(Fault.cutAfter(5000, Close.FIN));
        UpdateEngine e = fx.engine();
        e.order(fx.order(url(), true));
        e.run();
        assertVerifiedOnB(e);
    }

    @Test
    void restartAfterAbandonedDownloadResumesAtFirstMissingChunk() throws Exception {
        // stop the first engine dead after 12 chunks are journaled, like a kill -9
        fx.hook = new CrashHook() {
            @Override
            public void at(String point) {
                if (point.equals("chunk-journaled:0:11")) throw new SimulatedCrash(point);
            }
        };
        UpdateEngine first = fx.engine();
        first.order(fx.order(url(), true));
        try {
            first.run();
        } catch (CrashHook.SimulatedCrash expected) {
            // the process is gone
        }
        long before = server.bytesServed();
        fx.hook = CrashHook.NONE;
        UpdateEngine second = fx.engine();
        assertThat(second.state().state()).isEqualTo(UpdateState.DOWNLOADING);
        second.run();
        assertVerifiedOnB(second);
        long second_ = server.bytesServed() - before;
        // the resume fetched only the 29 missing chunks (no header: it was kept on disk); the server may still be
        // sending chunk 12, which the dead engine had in flight, after 'before' was read: at most one chunk more.
        long missing = bundleSize - BundleHeader.read(bundle).payloadOffset() - 12L * CHUNK;
        assertThat(second_).isBetween(missing, missing + CHUNK);
    }

    @Test
    void cutEveryFewChunksAcrossTheWholeDownload() throws Exception {
        proxy.cutEvery(5L * CHUNK + 777, Close.RST);
        UpdateEngine e = fx.engine();
        e.order(fx.order(url(), true));
        e.run();
        proxy.stopCuttingEvery();
        assertVerifiedOnB(e);
        long cuts = proxy.counters().cuts();
        assertThat(cuts).isGreaterThanOrEqualTo(7);
        assertThat(e.progress().bytesFetched()).isLessThanOrEqualTo(bundleSize + SlotFiller.FIRST_HEADER_FETCH + cuts * CHUNK);
    }
}
