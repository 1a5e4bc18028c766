package rsuota.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import rsuota.json.RecordJson;

/**
 * The per-chunk tables of a manifest are held packed (raw digests, int lengths) and read back as
 * the manifest spells them: equal lists, the same JSON bytes, and non-canonical entries kept as
 * given so validation still names them.
 */
class CompactManifestTablesTest {
    private static final SplittableRandom RANDOM = new SplittableRandom(11);

    static String digest() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Sha256.hex(b);
    }

    static ManifestImage image(int chunks) {
        List<String> ids = new ArrayList<>();
        List<ManifestImage.Stored> stored = new ArrayList<>();
        long size = 0;
        for (int i = 0; i < chunks; i++) {
            ids.add(digest());
            int len = 20_000 + i;
            stored.add(new ManifestImage.Stored(len, len / 3, digest()));
            size += len;
        }
        return new ManifestImage("rootfs", 0, size, digest(), 262_144, ids, new ManifestImage.Cdc(16_384, 65_536, "zstd", 0, stored));
    }

    @Test
    void packedTablesReadBackAsTheManifestSpellsThem() {
        List<String> ids = List.of(digest(), digest(), "00".repeat(32), "ff".repeat(32));
        ManifestImage im = new ManifestImage("rootfs", 0, 4, digest(), 1, ids);
        assertThat(im.chunks()).isInstanceOf(DigestList.class).containsExactlyElementsOf(ids).isEqualTo(ids).hasSameHashCodeAs(ids);
        assertThat(im.chunks().get(3)).isEqualTo("ff".repeat(32));
        assertThatThrownBy(() -> im.chunks().get(4)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> im.chunks().set(0, digest())).isInstanceOf(UnsupportedOperationException.class);

        ManifestImage v2 = image(50);
        assertThat(v2.cdc().stored()).isInstanceOf(StoredList.class).hasSize(50);
        ManifestImage.Stored s = v2.cdc().stored().get(7);
        assertThat(s.length()).isEqualTo(20_007);
        assertThat(s.storedLength()).isEqualTo(20_007 / 3);
        assertThat(v2).isEqualTo(new ManifestImage(v2.slotClass(), 0, v2.size(), v2.sha256(), v2.chunkSize(), List.copyOf(v2.chunks()),
                new ManifestImage.Cdc(16_384, 65_536, "zstd", 0, List.copyOf(v2.cdc().stored()))));
    }

    @Test
    void aPackedImageReadsAndWritesTheManifestsOwnJsonByteForByte() throws Exception {
        // the manifest's JSON written by hand (sorted keys, no whitespace: ManifestCodec's form)
        StringBuilder chunks = new StringBuilder();
        StringBuilder stored = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            chunks.append(i == 0 ? "" : ",").append('"').append(digest()).append('"');
            stored.append(i == 0 ? "" : ",").append('[').append(20_000 + i).append(',').append(7_000 + i).append(",\"").append(digest()).append("\"]");
        }
        String text = "{\"cdc\":{\"avg\":65536,\"compression\":\"zstd\",\"min\":16384,\"prefix\":0,\"stored\":[" + stored + "]},"
                + "\"chunkSize\":262144,\"chunks\":[" + chunks + "],\"offset\":0,\"sha256\":\"" + digest() + "\",\"size\":6044850,\"slotClass\":\"rootfs\"}";
        RecordJson json = RecordJson.strict(true, 16, 1024 * 1024);
        ManifestImage im = json.read(text.getBytes(java.nio.charset.StandardCharsets.UTF_8), ManifestImage.class);
        assertThat(im.chunks()).isInstanceOf(DigestList.class).hasSize(300);
        assertThat(im.cdc().stored()).isInstanceOf(StoredList.class).hasSize(300);
        assertThat(new String(json.write(im), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(text);
    }

    @Test
    void tablesSpanningSeveralBlocksArePackedWhileParsedAndReadBackExactly() throws Exception {
        // 2.5 blocks of chunks, parsed from the manifest's JSON: packed by the sinks as read, no list of strings first
        int n = 2 * DigestList.BLOCK + DigestList.BLOCK / 2 + 3;
        ManifestImage original = image(n);
        RecordJson json = RecordJson.strict(true, 16, 1024 * 1024);
        byte[] text = json.write(original);
        ManifestImage im = json.read(text, ManifestImage.class);
        assertThat(im.chunks()).isInstanceOf(DigestList.class).hasSize(n).isEqualTo(original.chunks());
        assertThat(im.cdc().stored()).isInstanceOf(StoredList.class).hasSize(n).isEqualTo(original.cdc().stored());
        for (int i : new int[] {0, DigestList.BLOCK - 1, DigestList.BLOCK, 2 * DigestList.BLOCK + 1, n - 1}) {
            assertThat(im.chunks().get(i)).as("chunk %d", i).isEqualTo(original.chunks().get(i));
            assertThat(im.cdc().stored().get(i)).as("stored %d", i).isEqualTo(original.cdc().stored().get(i));
        }
        assertThatThrownBy(() -> im.chunks().get(n)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> im.cdc().stored().get(n)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(json.write(im)).isEqualTo(text);
    }

    @Test
    void aNonCanonicalEntryPastTheFirstBlockIsNamedByValidation() throws Exception {
        // the sink has packed more than a block when the bad entry comes: it keeps every entry as given from there
        int n = DigestList.BLOCK + 10;
        ManifestImage im = image(n);
        String json = new String(ManifestCodec.encode(manifest(im)), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(ManifestCodec.decode(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)).images().get(0)).isEqualTo(im);
        String victim = im.chunks().get(DigestList.BLOCK + 5);
        String mutated = json.replace(victim, victim.toUpperCase(java.util.Locale.ROOT));
        assertThatThrownBy(() -> ManifestCodec.decode(mutated.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("images[0].chunks[" + (DigestList.BLOCK + 5) + "]")
                .hasMessageContaining("64 lower-case hex digits");
        // the same for a stored digest
        String victimStored = im.cdc().stored().get(DigestList.BLOCK + 7).storedSha256();
        String mutatedStored = json.replace(victimStored, victimStored.substring(1) + "Z");
        assertThatThrownBy(() -> ManifestCodec.decode(mutatedStored.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("images[0].cdc.stored[" + (DigestList.BLOCK + 7) + "]")
                .hasMessageContaining("stored SHA-256 must be 64 lower-case hex digits");
    }

    @Test
    void packedLengthsOutsideTheChunkersBoundsAreNamedByValidation() throws Exception {
        int n = DigestList.BLOCK + 10;
        ManifestImage im = image(n);
        // the last chunk may be shorter than the minimum
        assertThat(ManifestCodec.decode(ManifestCodec.encode(manifest(withStored(im, n - 1, 5, 3)))).images().get(0).cdc().stored().get(n - 1).length())
                .isEqualTo(5);
        int c = DigestList.BLOCK + 3;
        assertThatThrownBy(() -> ManifestCodec.decode(ManifestCodec.encode(manifest(withStored(im, c, 100, 50)))))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("images[0].cdc.stored[" + c + "]: length 100 is outside 16384..262144");
        assertThatThrownBy(() -> ManifestCodec.decode(ManifestCodec.encode(manifest(withStored(im, c, 20_000, 0)))))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("images[0].cdc.stored[" + c + "]: stored length 0 is outside 1..");
    }

    /** {@code im} with chunk {@code c}'s lengths replaced (and the image size kept consistent). */
    static ManifestImage withStored(ManifestImage im, int c, int length, int storedLength) {
        List<ManifestImage.Stored> stored = new ArrayList<>(im.cdc().stored());
        ManifestImage.Stored old = stored.get(c);
        stored.set(c, new ManifestImage.Stored(length, storedLength, old.storedSha256()));
        ManifestImage.Cdc cdc = im.cdc();
        return new ManifestImage(im.slotClass(), 0, im.size() - old.length() + length, im.sha256(), im.chunkSize(), im.chunks(),
                new ManifestImage.Cdc(cdc.min(), cdc.avg(), cdc.compression(), cdc.prefix(), stored));
    }

    /** A valid manifest around one image. */
    static Manifest manifest(ManifestImage im) {
        return new Manifest("2.0.0", 1, List.of("rsu-a1"), java.util.Map.of("os", "2.0.0"), "2026-12-04T00:00:00Z", List.of(im));
    }

    @Test
    void nonCanonicalDigestsAreKeptAsGivenForValidationToName() {
        List<String> ids = List.of(digest(), "AB".repeat(32), digest());
        ManifestImage im = new ManifestImage("rootfs", 0, 3, digest(), 1, ids);
        assertThat(im.chunks()).isNotInstanceOf(DigestList.class).containsExactlyElementsOf(ids);
        assertThat(new ManifestImage("rootfs", 0, 1, digest(), 1, List.of("abc")).chunks()).containsExactly("abc");
        List<ManifestImage.Stored> stored = List.of(new ManifestImage.Stored(1, 1, digest()), new ManifestImage.Stored(1, 1, "x"));
        assertThat(new ManifestImage.Cdc(1, 2, "zstd", 0, stored).stored()).isNotInstanceOf(StoredList.class).containsExactlyElementsOf(stored);
        List<String> withNull = new ArrayList<>(List.of(digest()));
        withNull.add(null);
        assertThatThrownBy(() -> new ManifestImage("rootfs", 0, 2, digest(), 1, withNull)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void firstOccurrencesNameTheEarliestChunkOfEachIdentity() {
        String a = digest();
        String b = digest();
        String c = digest();
        List<String> ids = List.of(a, b, a, c, b, b, a);
        List<ManifestImage.Stored> stored = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) stored.add(new ManifestImage.Stored(10, 5, digest()));
        ManifestImage im = new ManifestImage("rootfs", 0, 70, digest(), 100, ids, new ManifestImage.Cdc(1, 10, "zstd", 0, stored));
        assertThat(ChunkLayout.of(im).firstOccurrences()).containsExactly(0, 1, 0, 3, 1, 1, 0);

        // many chunks, one identity in three repeated at random: the table agrees with a map
        List<String> pool = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) pool.add(digest());
        List<String> many = new ArrayList<>();
        List<ManifestImage.Stored> st = new ArrayList<>();
        for (int i = 0; i < 9_000; i++) {
            many.add(pool.get(RANDOM.nextInt(pool.size())));
            st.add(new ManifestImage.Stored(10, 5, digest()));
        }
        int[] first = ChunkLayout.of(new ManifestImage("rootfs", 0, 90_000, digest(), 100, many, new ManifestImage.Cdc(1, 10, "zstd", 0, st)))
                .firstOccurrences();
        java.util.Map<String, Integer> seen = new java.util.HashMap<>();
        for (int i = 0; i < many.size(); i++) {
            seen.putIfAbsent(many.get(i), i);
            assertThat(first[i]).as("chunk %d", i).isEqualTo(seen.get(many.get(i)));
        }
    }
}
