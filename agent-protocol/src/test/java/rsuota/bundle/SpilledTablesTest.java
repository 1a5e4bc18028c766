package rsuota.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A manifest's tables written to a file as it is parsed read back exactly as they were, the layout over
 * them agrees chunk by chunk with one computed per chunk, and a file changed on disk is refused, never
 * read as other digests.
 */
class SpilledTablesTest {
    @TempDir
    Path tmp;

    /** 2.5 blocks of chunks with a twin every 7th chunk, in a manifest with a format 2 image. */
    static Manifest manifest(int n) {
        ManifestImage base = CompactManifestTablesTest.image(n);
        List<String> ids = new ArrayList<>(base.chunks());
        for (int i = 7; i < n; i += 7) ids.set(i, ids.get(i / 2));
        ManifestImage im = new ManifestImage(base.slotClass(), 0, base.size(), base.sha256(), base.chunkSize(), ids, base.cdc());
        return new Manifest("2.0.0", 1, List.of("rsu-a1"), Map.of("os", "2.0.0"), "2026-12-04T00:00:00Z", List.of(im));
    }

    /** {@code m} encoded, then parsed with its tables written to {@code file}: the path a unit's header takes. */
    static Manifest spilled(Manifest m, Path file) throws Exception {
        try (SpilledTables.Writer w = new SpilledTables.Writer(file)) {
            return ManifestCodec.decode(new java.io.ByteArrayInputStream(ManifestCodec.encode(m)), w);
        }
    }

    @Test
    void spilledTablesReadBackAsWrittenAndTheLayoutOverThemAgreesChunkByChunk() throws Exception {
        int n = 2 * DigestList.BLOCK + DigestList.BLOCK / 2 + 3;
        Manifest m = manifest(n);
        Path file = tmp.resolve("manifest.tables");
        Manifest s = spilled(m, file);
        ManifestImage before = m.images().get(0);
        ManifestImage after = s.images().get(0);
        assertThat(Files.size(file)).as("digests and stored entries on disk").isEqualTo(n * (32L + 40L));
        assertThat(after).isEqualTo(before);
        assertThat(ManifestCodec.encode(s)).isEqualTo(ManifestCodec.encode(m));

        // the layout per chunk, summed here the plain way, against the block-based one over the spilled table
        ChunkLayout l = ChunkLayout.of(after);
        long offset = 0;
        long stored = 0;
        for (int i = 0; i < n; i++) {
            ManifestImage.Stored st = before.cdc().stored().get(i);
            assertThat(l.offset(i)).as("offset %d", i).isEqualTo(offset);
            assertThat(l.storedOffset(i)).as("stored offset %d", i).isEqualTo(stored);
            assertThat(l.length(i)).isEqualTo(st.length());
            assertThat(l.storedLength(i)).isEqualTo(st.storedLength());
            assertThat(l.identity(i)).isEqualTo(before.chunks().get(i));
            assertThat(l.storedSha256(i)).isEqualTo(st.storedSha256());
            offset += st.length();
            stored += st.storedLength();
        }
        assertThat(l.offset(n)).isEqualTo(before.size());
        assertThat(l.storedOffset(n)).isEqualTo(before.storedSize());
        // out of order, across blocks, as the fill and its fetch thread ask
        for (int i : new int[] {n - 1, 0, DigestList.BLOCK, 5, 2 * DigestList.BLOCK + 1, DigestList.BLOCK - 1}) {
            assertThat(l.offset(i)).isEqualTo(ChunkLayout.of(before).offset(i));
        }
        assertThat(l.firstOccurrences()).containsExactly(ChunkLayout.of(before).firstOccurrences());
        assertThat(l.firstOccurrences()[7]).as("a twin names its first occurrence").isEqualTo(3);
        assertThat(l.firstOccurrences()[14]).as("a twin's twin too").isEqualTo(3);
        assertThat(l.maxLength()).isEqualTo(ChunkLayout.of(before).maxLength());
        assertThat(l.maxStoredLength()).isEqualTo(ChunkLayout.of(before).maxStoredLength());
    }

    @Test
    void aFormat1LayoutIsComputedFromTheChunkSize() {
        List<String> ids = List.of(CompactManifestTablesTest.digest(), CompactManifestTablesTest.digest(), CompactManifestTablesTest.digest());
        ManifestImage im = new ManifestImage("rootfs", 4096, 2 * 65_536 + 100, CompactManifestTablesTest.digest(), 65_536, ids);
        ChunkLayout l = ChunkLayout.of(im);
        assertThat(l.count()).isEqualTo(3);
        assertThat(new long[] {l.offset(0), l.offset(1), l.offset(2), l.offset(3)}).containsExactly(0, 65_536, 131_072, 131_172);
        assertThat(new int[] {l.length(0), l.length(2)}).containsExactly(65_536, 100);
        assertThat(l.storedOffset(2)).isEqualTo(4096 + 131_072);
        assertThat(l.storedLength(2)).isEqualTo(100);
        assertThat(l.storedSha256(1)).isEqualTo(ids.get(1));
    }

    @Test
    void aTableFileChangedOnDiskIsRefusedNotReadAsOtherDigests() throws Exception {
        int n = 3 * DigestList.BLOCK;
        Manifest m = manifest(n);
        Path file = tmp.resolve("manifest.tables");
        ManifestImage im = spilled(m, file).images().get(0);
        assertThat(im.chunks().get(0)).isEqualTo(m.images().get(0).chunks().get(0));
        // one byte of the identities' third block flipped (they follow the stored table: "cdc" is
        // written before "chunks"); a digest in it is asked for
        long at = n * 40L + 2L * DigestList.BLOCK * 32 + 100;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x40)).rewind();
            ch.write(b, at);
        }
        assertThatThrownBy(() -> im.chunks().get(2 * DigestList.BLOCK + 3)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("changed on disk").hasMessageContaining("block 2");
        // the stored table's blocks: untouched, still read
        assertThat(im.cdc().stored().get(2 * DigestList.BLOCK + 3)).isEqualTo(m.images().get(0).cdc().stored().get(2 * DigestList.BLOCK + 3));
        // cut short: the last identities' block is refused too, the stored table's still read
        Path cut = tmp.resolve("cut.tables");
        ManifestImage im2 = spilled(m, cut).images().get(0);
        try (FileChannel ch = FileChannel.open(cut, StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(cut) - 10);
        }
        assertThat(im2.chunks().get(0)).isEqualTo(m.images().get(0).chunks().get(0));
        assertThat(im2.cdc().stored().get(n - 1)).isEqualTo(m.images().get(0).cdc().stored().get(n - 1));
        assertThatThrownBy(() -> im2.chunks().get(n - 1)).isInstanceOf(UncheckedIOException.class).hasMessageContaining("changed on disk");
    }

    @Test
    void aSecondParseReplacesTheFileAndAFormat1ImagesIdentitiesGoThereToo() throws Exception {
        Path file = tmp.resolve("manifest.tables");
        Manifest a = spilled(manifest(DigestList.BLOCK + 1), file);
        Manifest b = spilled(manifest(10), file);
        assertThat(Files.size(file)).isEqualTo(10 * 72L);
        assertThat(b.images().get(0).chunks()).hasSize(10);
        // the first spill's tables were replaced under it: refused, not read as the second's
        assertThatThrownBy(() -> a.images().get(0).chunks().get(DigestList.BLOCK)).isInstanceOf(UncheckedIOException.class);
        ManifestImage f1 = new ManifestImage("rootfs", 0, 2, CompactManifestTablesTest.digest(), 65_536, List.of(CompactManifestTablesTest.digest()));
        Manifest m1 = new Manifest("1.0.0", 1, List.of("rsu-a1"), Map.of("os", "1.0.0"), "2026-12-04T00:00:00Z", List.of(f1));
        assertThat(spilled(m1, file).images().get(0)).isEqualTo(f1);
        assertThat(Files.size(file)).as("one identity").isEqualTo(32);
    }

    @Test
    void aBadEntryPastTheFirstBlockIsNamedAsWhenTheTablesStayInMemory() throws Exception {
        int n = DigestList.BLOCK + 10;
        ManifestImage im = CompactManifestTablesTest.image(n);
        String json = new String(ManifestCodec.encode(CompactManifestTablesTest.manifest(im)), java.nio.charset.StandardCharsets.UTF_8);
        String victim = im.chunks().get(DigestList.BLOCK + 5);
        String victimStored = im.cdc().stored().get(DigestList.BLOCK + 7).storedSha256();
        List<byte[]> bad = List.of(
                json.replace(victim, victim.toUpperCase(java.util.Locale.ROOT)).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                json.replace(victimStored, victimStored.substring(1) + "Z").getBytes(java.nio.charset.StandardCharsets.UTF_8),
                ManifestCodec.encode(CompactManifestTablesTest.manifest(CompactManifestTablesTest.withStored(im, DigestList.BLOCK + 3, 100, 50))));
        Path file = tmp.resolve("manifest.tables");
        for (byte[] b : bad) {
            String inMemory = catchThrowableOfType(() -> ManifestCodec.decode(b), BundleException.class).getMessage();
            assertThat(inMemory).containsPattern("images\\[0\\]\\.(chunks|cdc\\.stored)\\[10(27|29|31)\\]");
            assertThatThrownBy(() -> {
                try (SpilledTables.Writer w = new SpilledTables.Writer(file)) {
                    ManifestCodec.decode(new java.io.ByteArrayInputStream(b), w);
                }
            }).isInstanceOf(BundleException.class).hasMessage(inMemory);
        }
    }

    @Test
    void aFullDiskWhileTheTablesAreWrittenIsTheIoErrorOfTheParse() {
        // /dev/full refuses every write with ENOSPC, as a full state directory does
        Manifest m = manifest(DigestList.BLOCK + 5);
        assertThatThrownBy(() -> spilled(m, Path.of("/dev/full"))).isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("cannot write the manifest's tables to /dev/full");
    }
}
