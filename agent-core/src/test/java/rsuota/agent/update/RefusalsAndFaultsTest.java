package rsuota.agent.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.download.SlotFiller;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.net.RangeFileServer;
import rsuota.hal.boot.Slot;
import rsuota.hal.storage.FileSlotStorage;
import rsuota.hal.storage.SlotStorage;

/** Pre-flight refusals, storage faults and replaced orders: each a specific reason, nothing else changed. */
class RefusalsAndFaultsTest {
    static final int CHUNK = 64 * 1024;
    @TempDir Path tmp;
    Path www;
    RangeFileServer server;
    EngineFixture fx;

    @BeforeEach
    void setUp() throws Exception {
        www = Files.createDirectories(tmp.resolve("www"));
        server = RangeFileServer.start(www);
        fx = new EngineFixture(tmp.resolve("dev"), 1024 * 1024);
    }

    @AfterEach
    void tearDown() throws Exception {
        server.close();
    }

    Path bundle(String name, BundleBuilder b) throws IOException {
        return b.build(name);
    }

    BundleBuilder builder() {
        return new BundleBuilder(www).signedBy(EngineFixture.PKI, EngineFixture.PKI.signer).chunkSize(CHUNK);
    }

    EngineState install(String name) throws Exception {
        UpdateEngine e = fx.engine();
        e.order(fx.order(server.uri("/" + name).toString(), true));
        return e.run();
    }

    void assertRefusedBeforePayload(EngineState s, String code) throws Exception {
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).isEqualTo(code);
        // only the header was requested: no payload byte was fetched for a refused bundle
        assertThat(server.requests()).hasSize(1);
        assertThat(server.rangeHeaders().get(0)).isEqualTo("bytes=0-" + (SlotFiller.FIRST_HEADER_FETCH - 1));
        assertThat(fx.slotBytes(Slot.B, CHUNK)).containsOnly(0);
        // the persisted state says the same
        EngineState persisted = new StateStore(fx.stateDir).load(java.time.Instant.now());
        assertThat(persisted.state()).isEqualTo(UpdateState.FAILED);
        assertThat(persisted.lastError().code()).isEqualTo(code);
        assertThat(persisted.slot("A").status()).isEqualTo("good");
    }

    @Test
    void imageLargerThanTheSlot() throws Exception {
        bundle("big.rsub", builder().image("rootfs", 1024 * 1024 + 1));
        EngineState s = install("big.rsub");
        assertRefusedBeforePayload(s, "IMAGE_TOO_LARGE");
        assertThat(s.lastError().message()).contains("1048577").contains("1048576");
    }

    @Test
    void incompatibleVariant() throws Exception {
        bundle("v.rsub", builder().compatible("rsu-b7").image("rootfs", 100_000));
        assertRefusedBeforePayload(install("v.rsub"), "INCOMPATIBLE_VARIANT");
    }

    @Test
    void downgradeBelowThePersistedFloor() throws Exception {
        StateStore store = new StateStore(fx.stateDir);
        UpdateEngine first = fx.engine(); // initialises the state file
        store.amend(first.state(), first.state().withFloor(9));
        bundle("old.rsub", builder().securityVersion(8).image("rootfs", 100_000));
        EngineState s = install("old.rsub");
        assertRefusedBeforePayload(s, "DOWNGRADE");
        assertThat(s.lastError().message()).contains("floor 9");
    }

    @Test
    void untrustedSigner() throws Exception {
        bundle("rogue.rsub", new BundleBuilder(www).signedBy(EngineFixture.PKI, EngineFixture.PKI.rogueSigner).chunkSize(CHUNK)
                .image("rootfs", 100_000));
        assertRefusedBeforePayload(install("rogue.rsub"), "UNTRUSTED_SIGNER");
    }

    @Test
    void manifestDigestOtherThanOrdered() throws Exception {
        bundle("m.rsub", builder().image("rootfs", 100_000));
        UpdateEngine e = fx.engine();
        e.order(new EngineState.Order(server.uri("/m.rsub").toString(), "2.4.0", "0".repeat(64), 5, true, "r1"));
        assertRefusedBeforePayload(e.run(), "BUNDLE_MISMATCH");
    }

    @Test
    void localFileSourceGoesThroughTheSameVerifiedPath() throws Exception {
        Path b = bundle("usb.rsub", builder().image("rootfs", 3 * CHUNK + 5));
        UpdateEngine e = fx.engine();
        e.order(fx.order(b.toString(), true));
        EngineState s = e.run();
        assertThat(s.state()).isEqualTo(UpdateState.VERIFIED);
        byte[] img = Files.readAllBytes(www.resolve("usb.rsub.rootfs.img"));
        assertThat(fx.slotBytes(Slot.B, img.length)).isEqualTo(img);
        UpdateEngine e2 = fx.engine();
        e2.order(fx.order(tmp.resolve("no-usb-stick.rsub").toString(), true));
        EngineState missing = e2.run();
        assertThat(missing.lastError().code()).isEqualTo("NOT_FOUND");
        assertThat(missing.lastError().message()).contains("USB");
    }

    @Test
    void fullSlotDeviceIsNoSpace() throws Exception {
        // /dev/full: every write fails with ENOSPC, like a full medium
        FileSlotStorage full = new FileSlotStorage(fx.dir.resolve(FileSlotStorage.SIMULATED_A), Path.of("/dev/full"));
        fx.storage = new SlotStorage() {
            public long size(Slot s) { return 1024 * 1024; } // a character device has no size of its own
            public FileChannel openForWrite(Slot s) throws IOException { return full.openForWrite(s); }
            public FileChannel openForRead(Slot s) throws IOException { return full.openForRead(s); }
            public String describe(Slot s) { return full.describe(s); }
        };
        bundle("f.rsub", builder().image("rootfs", 2 * CHUNK));
        EngineState s = install("f.rsub");
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).isEqualTo("NO_SPACE");
        assertThat(new StateStore(fx.stateDir).load(java.time.Instant.now()).lastError().code()).isEqualTo("NO_SPACE");
    }

    @Test
    void slotIoErrorIsReported() throws Exception {
        Path dirAsSlot = Files.createDirectories(tmp.resolve("not-a-slot"));
        fx.storage = new FileSlotStorage(fx.dir.resolve(FileSlotStorage.SIMULATED_A), dirAsSlot);
        bundle("io.rsub", builder().image("rootfs", 1000)); // fits the 4 KiB a directory reports as its size
        EngineState s = install("io.rsub");
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).isEqualTo("SLOT_IO_ERROR");
        assertThat(s.lastError().message()).contains("not-a-slot");
    }

    @Test
    void storageThatDropsWritesIsCaughtByTheReadBack() throws Exception {
        Path blackHole = tmp.resolve("black-hole.img");
        Files.write(blackHole, new byte[1024 * 1024]);
        SlotStorage real = fx.storage;
        // a medium that acknowledges writes but keeps nothing: writes go elsewhere, reads come from the slot
        fx.storage = new SlotStorage() {
            public long size(Slot s) throws IOException { return real.size(s); }
            public FileChannel openForWrite(Slot s) throws IOException { return FileChannel.open(blackHole, StandardOpenOption.WRITE); }
            public FileChannel openForRead(Slot s) throws IOException { return real.openForRead(s); }
            public String describe(Slot s) { return "lying " + real.describe(s); }
        };
        bundle("lie.rsub", builder().image("rootfs", 2 * CHUNK));
        EngineState s = install("lie.rsub");
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).isEqualTo("IMAGE_HASH_MISMATCH");
        assertThat(s.lastError().message()).contains("read-back");
        assertThat(s.slot("B").status()).isNotEqualTo("verified");
    }

    /**
     * The read-back runs behind the download, but a resumed download reads back from byte 0: a
     * chunk journaled by an earlier run and damaged on the medium since is caught, not trusted.
     */
    @Test
    void aResumedDownloadReadsBackTheChunksOfEarlierRunsToo() throws Exception {
        bundle("resume.rsub", builder().image("rootfs", 6 * CHUNK));
        fx.hook = new CrashHook() {
            @Override
            public void at(String p) {
                if (p.equals("chunk-journaled:0:" + (SlotFiller.FLUSH_CHUNKS - 1))) throw new SimulatedCrash(p);
            }
        };
        assertThatThrownBy(() -> install("resume.rsub")).isInstanceOf(CrashHook.SimulatedCrash.class);
        fx.hook = CrashHook.NONE;
        // the power came back with the first chunk's bytes changed on the slot (a bad block)
        Path slotB = fx.dir.resolve(FileSlotStorage.SIMULATED_B);
        try (FileChannel ch = FileChannel.open(slotB, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), 100);
        }
        server.resetCounters();
        EngineState s = fx.engine().run();
        // Resumed: only the chunks the journal does not name are fetched (a transient retry of one of
        // them under load is allowed; a journaled chunk fetched again is not).
        java.util.Set<String> distinct = new java.util.LinkedHashSet<>(server.rangeHeaders());
        assertThat(distinct).as("resumed: the journaled chunks were not fetched again").hasSize(6 - SlotFiller.FLUSH_CHUNKS);
        assertThat(s.state()).isEqualTo(UpdateState.FAILED);
        assertThat(s.lastError().code()).isEqualTo("IMAGE_HASH_MISMATCH");
        assertThat(s.slot("B").status()).isNotEqualTo("verified");
    }

    @Test
    void stateDirectoryOnAFullFileSystemKeepsTheStateFileIntact() throws Exception {
        Path mnt = Files.createDirectories(tmp.resolve("tiny"));
        run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt.toString());
        try {
            EngineFixture small = new EngineFixture(mnt.resolve("dev"), 4096);
            small.storage = fx.storage;
            UpdateEngine e = small.engine();
            Path stateFile = small.stateDir.resolve(StateStore.FILE);
            byte[] before = Files.readAllBytes(stateFile);
            // fill the file system completely
            try (FileChannel filler = FileChannel.open(mnt.resolve("filler"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                java.nio.ByteBuffer z = java.nio.ByteBuffer.allocate(4096);
                for (int i = 0; i < 1024; i++) { // 4 MiB at most: the file system holds 256 KiB
                    z.clear();
                    try {
                        filler.write(z);
                    } catch (IOException full) {
                        break;
                    }
                }
            }
            bundle("s.rsub", builder().image("rootfs", 2 * CHUNK));
            assertThatThrownBy(() -> e.order(small.order(server.uri("/s.rsub").toString(), true)))
                    .isInstanceOf(IOException.class).hasMessageContaining("No space left");
            assertThat(Files.readAllBytes(stateFile)).as("old state file intact").isEqualTo(before);
            assertThat(new StateStore(small.stateDir).load(java.time.Instant.now()).state()).isEqualTo(UpdateState.IDLE);
        } finally {
            run("umount", mnt.toString());
        }
    }

    @Test
    void slotsOnAReadOnlyFileSystemFailWithReadOnly() throws Exception {
        Path mnt = Files.createDirectories(tmp.resolve("ro"));
        run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt.toString());
        try {
            FileSlotStorage slots = FileSlotStorage.createSimulated(mnt, 1024 * 1024);
            run("mount", "-o", "remount,ro", mnt.toString());
            fx.storage = slots;
            bundle("ro.rsub", builder().image("rootfs", 2 * CHUNK));
            EngineState s = install("ro.rsub");
            assertThat(s.state()).isEqualTo(UpdateState.FAILED);
            assertThat(s.lastError().code()).isEqualTo("READ_ONLY");
            assertThat(new StateStore(fx.stateDir).load(java.time.Instant.now()).lastError().code()).isEqualTo("READ_ONLY");
        } finally {
            run("umount", mnt.toString());
        }
    }

    @Test
    void aNewerOrderReplacesTheDownloadInFlight() throws Exception {
        bundle("one.rsub", builder().image("rootfs", 6 * CHUNK));
        bundle("two.rsub", builder().release("2.5.0").seed(7).image("rootfs", 5 * CHUNK));
        UpdateEngine[] engine = new UpdateEngine[1];
        boolean[] sent = {false};
        fx.hook = new CrashHook() {
            @Override
            public void at(String point) {
                if (point.equals("chunk-journaled:0:1") && !sent[0]) {
                    sent[0] = true;
                    try {
                        engine[0].order(fx.order(server.uri("/two.rsub").toString(), true));
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }
            }
        };
        engine[0] = fx.engine();
        engine[0].order(fx.order(server.uri("/one.rsub").toString(), true));
        EngineState s = engine[0].run();
        assertThat(s.state()).isEqualTo(UpdateState.VERIFIED);
        assertThat(s.target().release()).isEqualTo("2.5.0");
        byte[] img = Files.readAllBytes(www.resolve("two.rsub.rootfs.img"));
        assertThat(fx.slotBytes(Slot.B, img.length)).isEqualTo(img);
        assertThat(fx.events).extracting(d -> d.state()).containsSubsequence("pending", "downloading", "idle", "pending", "downloading", "verified");
    }

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out + " (this test needs root to mount a small tmpfs)").isZero();
    }
}
