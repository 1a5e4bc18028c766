package rsuota.agent.download;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.bundle.BundleHeader;
import rsuota.bundle.BundleVerifier;
import rsuota.bundle.BundleWriter;
import rsuota.bundle.ChunkCodec;
import rsuota.bundle.Chunking;
import rsuota.bundle.CmsSigner;
import rsuota.bundle.Manifest;
import rsuota.bundle.ManifestImage;
import rsuota.bundle.Sha256;
import rsuota.bundle.VerifyOptions;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.net.RangeFileServer;
import rsuota.fixtures.pki.TestPki;
import rsuota.hal.boot.Slot;
import rsuota.hal.storage.FileSlotStorage;

/**
 * Format 2 on a unit: chunks the running slot A holds are copied from it (verified by hash),
 * only the others are fetched, as compressed bytes, over a real HTTP Range server that counts
 * what it serves; and every bad input of the format is refused with its code, nothing of it
 * trusted on slot B.
 */
public class DeltaFillTest {
    static final TestPki PKI = new TestPki();
    static final Chunking CDC = Chunking.DEFAULT;
    static final int SLOT = 4 * 1024 * 1024;
    @TempDir Path tmp;
    Path www;
    Path state;
    FileSlotStorage storage;
    RangeFileServer server;
    byte[] oldImage;
    byte[] newImage;

    @BeforeEach
    void setUp() throws Exception {
        www = Files.createDirectories(tmp.resolve("www"));
        state = Files.createDirectories(tmp.resolve("state"));
        storage = FileSlotStorage.createSimulated(tmp, SLOT);
        oldImage = text(new Random(1), 3 * 1024 * 1024);
        // the new release: 20 KB inserted at 1 MiB, 8 KB rewritten at 2 MiB
        ByteArrayOutputStream n = new ByteArrayOutputStream();
        n.write(oldImage, 0, 1 << 20);
        n.write(text(new Random(2), 20_000));
        n.write(oldImage, 1 << 20, (2 << 20) - (1 << 20));
        n.write(text(new Random(3), 8_000));
        n.write(oldImage, (2 << 20) + 8_000, oldImage.length - (2 << 20) - 8_000);
        newImage = n.toByteArray();
        server = RangeFileServer.start(www);
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    /** Compressible text like the files of an image: words from a small vocabulary. */
    public static byte[] text(Random r, int size) {
        String[] words = {"lib", "usr", "share", "roadside", "unit", "update", "signal", "phase", "config", "0x1f", "int", "return",
                "void", "static", "const", "char", "struct", "if", "else", "for", "while", "error", "ok", "main"};
        StringBuilder sb = new StringBuilder(size + 16);
        while (sb.length() < size) {
            sb.append(words[r.nextInt(words.length)]).append(r.nextInt(7) == 0 ? '\n' : ' ');
            if (r.nextInt(50) == 0) sb.append(r.nextLong());
        }
        return sb.substring(0, size).getBytes(StandardCharsets.US_ASCII);
    }

    Path bundle(String name, byte[] image) throws Exception {
        Path img = www.resolve(name + ".img");
        Files.write(img, image);
        return new BundleBuilder(www).signedBy(PKI, PKI.signer).imageFile("rootfs", img).format2(CDC).build(name);
    }

    void putOnSlot(Slot s, byte[] bytes) throws Exception {
        try (FileChannel ch = storage.openForWrite(s)) {
            ch.write(ByteBuffer.wrap(bytes), 0);
        }
    }

    byte[] slot(Slot s, int len) throws Exception {
        byte[] b = new byte[len];
        try (FileChannel ch = storage.openForRead(s)) {
            ByteBuffer bb = ByteBuffer.wrap(b);
            while (bb.hasRemaining()) ch.read(bb, bb.position());
        }
        return b;
    }

    SlotFiller filler(DownloadHook hook) {
        return new SlotFiller(new BundleVerifier(VerifyOptions.of(PKI.keyring()).withVariant("rsu-a1")),
                new DownloadTarget(storage, Slot.B, state, Slot.A), new RetryPolicy(Duration.ofMillis(1), Duration.ofMillis(5), 4),
                d -> { }, new SplittableRandom(7), hook);
    }

    FillReport install(Path bundle, DownloadHook hook) throws Exception {
        SlotFiller f = filler(hook);
        try (BundleSource src = BundleSource.open(server.uri("/" + bundle.getFileName()).toString(), HttpBundleSource.Options.defaults())) {
            VerifiedHeader h = f.fetchHeader(src, null).header();
            return f.fill(src, h, (a, b, c, d) -> { }, () -> false);
        }
    }

    long estimate(Path bundle, byte[] active) throws Exception {
        ManifestImage im = BundleHeader.read(bundle).manifest().images().get(0);
        java.util.Set<String> have = new java.util.HashSet<>();
        im.chunking().split(java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(active)), active.length,
                (at, buf, off, len) -> have.add(Sha256.of(buf, off, len)));
        long fetch = 0;
        var l = rsuota.bundle.ChunkLayout.of(im);
        for (int c = 0; c < l.count(); c++) if (have.add(l.identity(c))) fetch += l.storedLength(c);
        return fetch;
    }

    @Test
    void onlyTheChunksTheActiveSlotLacksAreFetchedTheRestIsCopiedAndVerified() throws Exception {
        putOnSlot(Slot.A, oldImage);
        Path b = bundle("new.rsub", newImage);
        Manifest m = BundleHeader.read(b).manifest();
        FillReport r = install(b, new DownloadHook() { });
        assertThat(slot(Slot.B, newImage.length)).isEqualTo(newImage);
        long payloadServed = r.bytesFetched();
        // the unit cuts its whole slot (the image and what follows it), as estimate cuts the bytes it is given
        assertThat(payloadServed).as("fetched exactly the stored bytes of the chunks slot A lacks").isEqualTo(estimate(b, slot(Slot.A, SLOT)));
        assertThat(payloadServed).as("a small part of the compressed payload").isLessThan(m.payloadSize() / 5);
        assertThat(r.bytesReused()).isGreaterThan(newImage.length * 9L / 10);
        assertThat(r.notes()).isEmpty();
        assertThat(state.resolve(ActiveSlotIndex.FILE)).as("the index of slot A is kept for next time").exists();
        // adjacent missing chunks went in one request each
        assertThat(server.rangeHeaders().size() - 2).isLessThan(r.chunksFetched() + 1);
    }

    @Test
    void withNothingReusableTheWholeCompressedPayloadIsFetchedOnce() throws Exception {
        Path b = bundle("full.rsub", newImage);
        Manifest m = BundleHeader.read(b).manifest();
        FillReport r = install(b, new DownloadHook() { });
        assertThat(slot(Slot.B, newImage.length)).isEqualTo(newImage);
        assertThat(r.bytesFetched()).isEqualTo(m.payloadSize());
        assertThat(m.payloadSize()).as("compressed").isLessThan(newImage.length / 2);
        assertThat(r.chunksReused()).isZero();
    }

    @Test
    void aChunkThatOccursTwiceInTheNewImageIsFetchedOnceAndCopiedOnTheSlot() throws Exception {
        byte[] fresh = text(new Random(21), 400_000);
        byte[] twice = new byte[oldImage.length + 2 * fresh.length];
        System.arraycopy(oldImage, 0, twice, 0, oldImage.length);
        System.arraycopy(fresh, 0, twice, oldImage.length, fresh.length);
        System.arraycopy(fresh, 0, twice, oldImage.length + fresh.length, fresh.length);
        putOnSlot(Slot.A, oldImage);
        Path b = bundle("twice.rsub", twice);
        FillReport r = install(b, new DownloadHook() { });
        assertThat(slot(Slot.B, twice.length)).isEqualTo(twice);
        assertThat(r.bytesFetched()).isEqualTo(estimate(b, slot(Slot.A, SLOT)));
        long freshStored = BundleHeader.read(b).manifest().payloadSize() * fresh.length / twice.length;
        assertThat(r.bytesFetched()).as("the repeated 400 KB once, not twice").isLessThan(freshStored * 3 / 2);
    }

    @Test
    void connectionCutsEvery100KBAreResumedWithinTheBoundOfCompressedBytes() throws Exception {
        Path b = bundle("cuts.rsub", newImage);
        Manifest m = BundleHeader.read(b).manifest();
        try (rsuota.fixtures.net.FaultProxy proxy = rsuota.fixtures.net.FaultProxy.start(server.port())) {
            proxy.cutEvery(100_000, rsuota.fixtures.net.Close.RST);
            SlotFiller f = new SlotFiller(new BundleVerifier(VerifyOptions.of(PKI.keyring()).withVariant("rsu-a1")),
                    new DownloadTarget(storage, Slot.B, state, Slot.A), new RetryPolicy(Duration.ofMillis(1), Duration.ofMillis(5), 50),
                    d -> { }, new SplittableRandom(7), new DownloadHook() { });
            try (BundleSource src = BundleSource.open(proxy.uri() + "/cuts.rsub", HttpBundleSource.Options.defaults())) {
                VerifiedHeader h = f.fetchHeader(src, null).header();
                FillReport r = f.fill(src, h, (x, y, z, w) -> { }, () -> false);
                long cuts = proxy.counters().cuts();
                assertThat(cuts).as("the link was cut").isGreaterThan(5);
                // each cut costs at most the range in flight: one maximal chunk
                assertThat(r.bytesFetched()).isLessThanOrEqualTo(m.payloadSize() + cuts * CDC.max());
            }
        }
        assertThat(slot(Slot.B, newImage.length)).isEqualTo(newImage);
    }

    @Test
    void aManifestLongerThanTheFirstHeaderRequestIsFetchedInFull() throws Exception {
        Path img = www.resolve("small-chunks.img");
        Files.write(img, newImage);
        Path b = new BundleBuilder(www).signedBy(PKI, PKI.signer).imageFile("rootfs", img).format2(new Chunking(1024, 2048, 65536))
                .build("small-chunks.rsub");
        assertThat(BundleHeader.read(b).payloadOffset()).as("header").isGreaterThan(3L * SlotFiller.FIRST_HEADER_FETCH);
        install(b, new DownloadHook() { });
        assertThat(slot(Slot.B, newImage.length)).isEqualTo(newImage);
    }

    /**
     * An 8 MiB image of ~4,000 chunks of ~2 KiB (a 450 KB header, four blocks of each table) in {@code NAME.rsub},
     * on 16 MiB slots to hold it.
     */
    byte[] manyChunks(String name, int seed) throws Exception {
        byte[] image = text(new Random(seed), 8 * 1024 * 1024);
        storage = FileSlotStorage.createSimulated(Files.createDirectories(tmp.resolve("big")), 16 << 20);
        Path img = www.resolve(name + ".img");
        Files.write(img, image);
        new BundleBuilder(www).signedBy(PKI, PKI.signer).imageFile("rootfs", img).format2(new Chunking(1024, 2048, 65536)).build(name + ".rsub");
        return image;
    }

    @Test
    void aHeaderLongerThanOnePieceIsAssembledFromRangesOfAtMostAPiece() throws Exception {
        byte[] image = manyChunks("long-header", 5);
        Path b = www.resolve("long-header.rsub");
        long headerLength = BundleHeader.read(b).payloadOffset();
        assertThat(headerLength).as("header").isGreaterThan(SlotFiller.FIRST_HEADER_FETCH + HeaderCheck.HEADER_PIECE);
        server.resetCounters();
        install(b, new DownloadHook() { });
        assertThat(slot(Slot.B, image.length)).isEqualTo(image);
        // the header's ranges: the first request, then pieces of at most HEADER_PIECE that meet end to end
        List<long[]> header = server.rangeHeaders().stream().map(DeltaFillTest::range).filter(r -> r[0] < headerLength).toList();
        assertThat(header.get(0)).containsExactly(0, SlotFiller.FIRST_HEADER_FETCH - 1);
        for (int i = 1; i < header.size(); i++) {
            assertThat(header.get(i)[0]).as("range %d starts where the one before ended", i).isEqualTo(header.get(i - 1)[1] + 1);
            assertThat(header.get(i)[1] - header.get(i)[0] + 1).as("range %d", i).isLessThanOrEqualTo(HeaderCheck.HEADER_PIECE);
        }
        assertThat(header.get(header.size() - 1)[1]).as("the last header range ends with the header").isEqualTo(headerLength - 1);
    }

    @Test
    void manifestTablesChangedOnDiskStopTheFillWithStateLostAndAFreshHeaderResumesIt() throws Exception {
        // four blocks of each table: more than a table caches
        byte[] image = manyChunks("tables", 6);
        Path b = www.resolve("tables.rsub");
        SlotFiller f = filler(new DownloadHook() { });
        try (BundleSource src = BundleSource.open(server.uri("/tables.rsub").toString(), HttpBundleSource.Options.defaults())) {
            VerifiedHeader h = f.fetchHeader(src, null).header();
            Path tables = state.resolve(HeaderCheck.TABLES);
            assertThat(tables).as("the verified tables are kept on disk, not in the heap").exists();
            // the first identity block: the fill reads it back while planning, before writing any chunk
            try (FileChannel ch = FileChannel.open(tables, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer one = ByteBuffer.allocate(1);
                ch.read(one, 40);
                one.put(0, (byte) (one.get(0) ^ 1)).rewind();
                ch.write(one, 40);
            }
            assertThatThrownBy(() -> f.fill(src, h, (x, y, z, w) -> { }, () -> false))
                    .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo(AgentError.STATE_LOST))
                    .hasMessageContaining("changed on disk").hasMessageContaining("order the install again");
        }
        assertThat(slot(Slot.B, image.length)).as("nothing written").isEqualTo(new byte[image.length]);
        // ordered again: the header is verified again, its tables written again, and the fill completes
        install(b, new DownloadHook() { });
        assertThat(slot(Slot.B, image.length)).isEqualTo(image);
    }

    /** {@code bytes=A-B} as {A, B}. */
    private static long[] range(String header) {
        String[] ab = header.substring("bytes=".length()).split("-");
        return new long[] {Long.parseLong(ab[0]), Long.parseLong(ab[1])};
    }

    /**
     * The case: 1 MiB chunks (format 1) and a kill mid-download used to cost ~2 MB more than
     * one chunk, because the journal trailed the chunks written; and the same for format 2.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "format {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void aKillMidDownloadCostsAtMostOneChunkFetchedAgain(int format) throws Exception {
        Path img = www.resolve("kill.img");
        Files.write(img, newImage);
        BundleBuilder bb = new BundleBuilder(www).signedBy(PKI, PKI.signer).imageFile("rootfs", img);
        Path b = (format == 1 ? bb.chunkSize(1024 * 1024) : bb.format2(CDC)).build("kill.rsub");
        Manifest m = BundleHeader.read(b).manifest();
        int chunk = format == 1 ? 1024 * 1024 : CDC.max();
        long cutAt = m.payloadSize() * 2 / 3;
        class Kill extends Error {
            Kill() {
                super("kill -9");
            }
        }
        assertThatThrownBy(() -> install(b, new DownloadHook() {
            @Override
            public void bytes(long fetchedSoFar) {
                if (fetchedSoFar > cutAt) throw new Kill();
            }
        })).isInstanceOf(Kill.class);
        long first = server.bytesServed();
        server.resetCounters();
        FillReport r = install(b, new DownloadHook() { });
        assertThat(slot(Slot.B, newImage.length)).isEqualTo(newImage);
        long total = first + server.bytesServed();
        // two header fetches (one per run) plus the payload plus at most one chunk (one range of format 2)
        assertThat(total - m.payloadSize() - 2 * Math.min(Files.size(b), SlotFiller.FIRST_HEADER_FETCH))
                .as("bytes fetched twice").isLessThanOrEqualTo(chunk);
        assertThat(r.chunksFetched()).isPositive();
    }

    @Test
    void aPersistedIndexPointingOutsideTheActiveSlotIsRefusedAndRebuilt() throws Exception {
        putOnSlot(Slot.A, oldImage);
        Path b = bundle("idx.rsub", newImage);
        install(b, new DownloadHook() { });
        SlotFiller.deleteJournal(state);
        putOnSlot(Slot.B, new byte[newImage.length]);
        Path index = state.resolve(ActiveSlotIndex.FILE);
        List<String> lines = new ArrayList<>(Files.readAllLines(index));
        String[] e = lines.get(1).split(" ");
        lines.set(1, e[0] + " " + (SLOT - 10) + " " + e[2]);
        Files.write(index, lines);
        FillReport r = install(b, new DownloadHook() { });
        assertThat(r.noted(AgentError.ACTIVE_INDEX_INVALID)).as("%s", r.notes()).isTrue();
        assertThat(r.notes().get(0).message()).contains("outside the active slot");
        assertThat(slot(Slot.B, newImage.length)).isEqualTo(newImage);
        assertThat(r.bytesReused()).as("rebuilt, and reused").isGreaterThan(newImage.length / 2);
        assertThat(Files.readAllLines(index).get(1)).isNotEqualTo(lines.get(1));
    }

    @Test
    void aNewerOrderStopsARunOfCopiesBetweenChunksAndTheResumeCopiesOnlyTheRest() throws Exception {
        putOnSlot(Slot.A, oldImage);
        Path b = bundle("cancel.rsub", newImage);
        java.util.concurrent.atomic.AtomicInteger copied = new java.util.concurrent.atomic.AtomicInteger();
        DownloadHook counting = new DownloadHook() {
            @Override
            public void at(String point) {
                if (point.startsWith("chunk-reused:")) copied.incrementAndGet();
            }
        };
        SlotFiller f = filler(counting);
        try (BundleSource src = BundleSource.open(server.uri("/" + b.getFileName()).toString(), HttpBundleSource.Options.defaults())) {
            VerifiedHeader h = f.fetchHeader(src, null).header();
            // a newer order arrives after the fifth copied chunk: the fill stops at the next chunk, inside the run
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> f.fill(src, h, (x, y, z, w) -> { }, () -> copied.get() >= 5))
                    .isInstanceOf(SlotFiller.Cancelled.class);
        }
        assertThat(copied.get()).as("stopped between chunks, not at the end of the run").isEqualTo(5);
        List<String> journal = Files.readAllLines(state.resolve(DownloadJournal.FILE));
        assertThat(journal).as("the copies so far are journaled and closed by a sync").contains("sync").filteredOn(l -> l.endsWith(" r")).hasSize(5);
        copied.set(0);
        FillReport r = install(b, counting);
        assertThat(slot(Slot.B, newImage.length)).isEqualTo(newImage);
        assertThat(r.totalChunksReused()).as("over both runs").isEqualTo(copied.get() + 5);
    }

    @Test
    void aPersistedIndexIsLoadedInsteadOfReadingTheSlotAgainAndAGarbledOneIsRebuilt() throws Exception {
        putOnSlot(Slot.A, oldImage);
        Path b = bundle("again.rsub", newImage);
        FillReport first = install(b, new DownloadHook() { });
        assertThat(first.activeIndexBuilt()).isTrue();
        SlotFiller.deleteJournal(state);
        putOnSlot(Slot.B, new byte[newImage.length]);
        FillReport second = install(b, new DownloadHook() { });
        assertThat(second.activeIndexBuilt()).as("the persisted index, bound to slot A's content, was used").isFalse();
        assertThat(second.bytesFetched()).as("the same chunks fetched").isEqualTo(first.bytesFetched());
        assertThat(second.bytesReused()).isEqualTo(first.bytesReused());
        assertThat(slot(Slot.B, newImage.length)).isEqualTo(newImage);

        SlotFiller.deleteJournal(state);
        putOnSlot(Slot.B, new byte[newImage.length]);
        Path index = state.resolve(ActiveSlotIndex.FILE);
        List<String> lines = new ArrayList<>(Files.readAllLines(index));
        lines.set(2, "zz" + lines.get(2).substring(2));
        Files.write(index, lines);
        FillReport third = install(b, new DownloadHook() { });
        assertThat(third.noted(AgentError.ACTIVE_INDEX_INVALID)).as("%s", third.notes()).isTrue();
        assertThat(third.notes().get(0).message()).contains("line 3 does not parse");
        assertThat(third.activeIndexBuilt()).isTrue();
        assertThat(third.bytesReused()).isEqualTo(first.bytesReused());
        assertThat(slot(Slot.B, newImage.length)).isEqualTo(newImage);
    }

    @Test
    void anActiveSlotThatCannotBeReadCostsTheReuseNotTheInstall() throws Exception {
        Path b = bundle("noread.rsub", newImage);
        Files.delete(tmp.resolve(FileSlotStorage.SIMULATED_A)); // the running slot's device is gone
        FillReport r = install(b, new DownloadHook() { });
        assertThat(r.noted(AgentError.ACTIVE_INDEX_INVALID)).as("%s", r.notes()).isTrue();
        assertThat(r.notes().get(0).message()).contains("cannot be indexed");
        assertThat(r.bytesFetched()).isEqualTo(BundleHeader.read(b).manifest().payloadSize());
        assertThat(slot(Slot.B, newImage.length)).isEqualTo(newImage);
    }

    @Test
    void aReusedChunkWhoseActiveBytesChangedIsFetchedInsteadAndTheIndexDropped() throws Exception {
        putOnSlot(Slot.A, oldImage);
        Path b = bundle("chg.rsub", newImage);
        install(b, new DownloadHook() { });
        SlotFiller.deleteJournal(state);
        putOnSlot(Slot.B, new byte[newImage.length]);
        // slot A changes in the middle, where the index's cheap fingerprint (both ends) does not look
        try (FileChannel ch = storage.openForWrite(Slot.A)) {
            ch.write(ByteBuffer.wrap("changed under us".getBytes(StandardCharsets.US_ASCII)), 1_500_000);
        }
        server.resetCounters();
        FillReport r = install(b, new DownloadHook() { });
        assertThat(r.noted(AgentError.REUSED_CHUNK_CHANGED)).as("%s", r.notes()).isTrue();
        assertThat(slot(Slot.B, newImage.length)).as("the changed bytes were not written as trusted").isEqualTo(newImage);
        assertThat(state.resolve(ActiveSlotIndex.FILE)).as("rebuilt on the next install").doesNotExist();
    }

    /** A signed manifest whose chunk list lies, over the real payload: what a broken build or a bad signer makes. */
    Path tampered(String name, java.util.function.UnaryOperator<Manifest> change, byte[] payload) throws Exception {
        Path out = www.resolve(name);
        Path p = tmp.resolve(name + ".payload");
        Files.write(p, payload);
        Manifest m = change.apply(BundleHeader.read(bundle(name + ".orig", newImage)).manifest());
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            BundleWriter.assemble(m, bytes -> CmsSigner.sign(bytes, PKI.signer.key(), PKI.signer.cert(), PKI.chainFor(PKI.signer), PKI.now), ch, out);
        }
        return out;
    }

    static byte[] payloadOf(Path bundle) throws Exception {
        byte[] all = Files.readAllBytes(bundle);
        int off = (int) BundleHeader.read(bundle).payloadOffset();
        return java.util.Arrays.copyOfRange(all, off, all.length);
    }

    @Test
    void storedBytesThatInflateToAnotherIdentityAreRefusedAndNothingOfThemIsTrusted() throws Exception {
        Path orig = bundle("lie.rsub.orig", newImage);
        Path b = tampered("lie.rsub", m -> {
            ManifestImage im = m.images().get(0);
            List<String> ids = new ArrayList<>(im.chunks());
            ids.set(3, Sha256.of(new byte[] {1}));
            return new Manifest(m.release(), m.securityVersion(), m.compatible(), m.components(), m.createdAt(),
                    List.of(new ManifestImage(im.slotClass(), im.offset(), im.size(), im.sha256(), im.chunkSize(), ids, im.cdc())));
        }, payloadOf(orig));
        assertThatThrownBy(() -> install(b, new DownloadHook() { }))
                .isInstanceOfSatisfying(AgentException.class, e -> {
                    assertThat(e.code()).isEqualTo(AgentError.CHUNK_IDENTITY_MISMATCH);
                    assertThat(e.getMessage()).contains("chunk 3");
                });
        assertThat(Files.readAllLines(state.resolve(DownloadJournal.FILE))).as("chunk 3 is not journaled").doesNotContain("0 3");
    }

    @Test
    void aChunkThatInflatesPastItsSignedLengthIsRefusedWithoutWritingIt() throws Exception {
        byte[] zeros = new byte[256 * 1024];
        byte[] z = new byte[ChunkCodec.compressBound(zeros.length)];
        int zl;
        try (ChunkCodec codec = new ChunkCodec()) {
            zl = codec.compress(zeros, 0, zeros.length, z, 3);
        }
        byte[] stored = java.util.Arrays.copyOf(z, zl);
        byte[] claimed = new byte[1000];
        Path b = tampered("bomb.rsub", m -> new Manifest(m.release(), m.securityVersion(), m.compatible(), m.components(), m.createdAt(),
                List.of(new ManifestImage("rootfs", 0, claimed.length, Sha256.of(claimed), CDC.max(), List.of(Sha256.of(claimed)),
                        new ManifestImage.Cdc(CDC.min(), CDC.avg(), "zstd", 0, List.of(new ManifestImage.Stored(claimed.length, zl, Sha256.of(stored))))))),
                stored);
        byte[] before = new byte[1000];
        java.util.Arrays.fill(before, (byte) 0xEE);
        putOnSlot(Slot.B, before);
        assertThatThrownBy(() -> install(b, new DownloadHook() { }))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo(AgentError.CHUNK_INFLATE_LIMIT));
        assertThat(slot(Slot.B, 1000)).as("nothing written").isEqualTo(before);
        assertThat(Files.readAllLines(state.resolve(DownloadJournal.FILE))).hasSize(1);
    }
}
