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
