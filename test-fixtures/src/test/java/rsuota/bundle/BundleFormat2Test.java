package rsuota.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.pki.TestPki;

/** Format 2: content-defined boundaries, compressed chunks, both hashes signed; v1 still reads. */
public class BundleFormat2Test {
    static final TestPki PKI = new TestPki();
    @TempDir Path tmp;

    /** Compressible text like the files of an image. */
    public static byte[] text(Random r, int size) {
        String[] words = {"lib", "usr", "share", "roadside", "unit", "update", "signal", "phase", "config", "int", "return", "void"};
        StringBuilder sb = new StringBuilder(size + 16);
        while (sb.length() < size) {
            sb.append(words[r.nextInt(words.length)]).append(r.nextInt(7) == 0 ? '\n' : ' ');
            if (r.nextInt(50) == 0) sb.append(r.nextLong());
        }
        return sb.substring(0, size).getBytes(StandardCharsets.US_ASCII);
    }

    static List<String> cut(Chunking c, byte[] data) throws Exception {
        List<String> ids = new ArrayList<>();
        c.split(Channels.newChannel(new ByteArrayInputStream(data)), data.length, (at, buf, off, len) -> ids.add(Sha256.of(buf, off, len)));
        return ids;
    }

    @Test
    void anInsertionMovesOnlyTheChunksAroundIt() throws Exception {
        byte[] old = text(new Random(1), 4 << 20);
        byte[] neu = new byte[old.length + 3000];
        System.arraycopy(old, 0, neu, 0, 1 << 20);
        System.arraycopy(text(new Random(9), 3000), 0, neu, 1 << 20, 3000);
        System.arraycopy(old, 1 << 20, neu, (1 << 20) + 3000, old.length - (1 << 20));
        List<String> a = cut(Chunking.DEFAULT, old);
        List<String> b = cut(Chunking.DEFAULT, neu);
        Set<String> have = new HashSet<>(a);
        long missing = b.stream().filter(id -> !have.contains(id)).count();
        assertThat(a.size()).as("about 64 KiB on average").isBetween(40, 110);
        assertThat(missing).as("of %d chunks", b.size()).isLessThanOrEqualTo(3);
    }

    @Test
    void chunkBoundsAreKeptAndCheckedTogether() throws Exception {
        byte[] data = text(new Random(2), 2 << 20);
        Chunking c = new Chunking(4096, 16384, 65536);
        List<Integer> lens = new ArrayList<>();
        c.split(Channels.newChannel(new ByteArrayInputStream(data)), data.length, (at, buf, off, len) -> lens.add(len));
        assertThat(lens.subList(0, lens.size() - 1)).allSatisfy(l -> assertThat(l).isBetween(4096, 65536));
        assertThat(lens.stream().mapToInt(Integer::intValue).sum()).isEqualTo(data.length);
        assertThatThrownBy(() -> new Chunking(4096, 20000, 65536)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> new Chunking(64, 16384, 65536)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFormat2BundleVerifiesAndEveryStoredByteIsCovered() throws Exception {
        Path img = tmp.resolve("rootfs.img");
        Files.write(img, text(new Random(3), 1 << 20));
        Path b = new BundleBuilder(tmp).signedBy(PKI, PKI.signer).imageFile("rootfs", img).format2(Chunking.DEFAULT).build("v2.rsub");
        BundleHeader h = BundleHeader.read(b);
        assertThat(h.formatVersion()).isEqualTo(2);
        ManifestImage im = h.manifest().images().get(0);
        assertThat(im.compressed()).isTrue();
        assertThat(im.storedSize()).as("compressed").isLessThan(im.size() / 2);
        assertThat(new String(h.manifestBytes(), StandardCharsets.UTF_8)).contains("\"cdc\":{\"avg\":65536,\"compression\":\"zstd\",\"min\":16384");
        BundleVerifier v = new BundleVerifier(VerifyOptions.of(PKI.keyring()).withVariant("rsu-a1"));
        v.verifyFile(b, null);
        byte[] bytes = Files.readAllBytes(b);
        bytes[(int) h.payloadOffset() + 10] ^= 1;
        Path flipped = Files.write(tmp.resolve("flip.rsub"), bytes);
        assertThatThrownBy(() -> v.verifyFile(flipped, null)).isInstanceOfSatisfying(BundleException.class,
                e -> assertThat(e.reason()).isEqualTo(Reason.CHUNK_HASH_MISMATCH));
    }

    /** No single byte of a format 2 bundle can change and still verify: header, manifest, signature or stored chunks. */
    @Test
    void everyFlippedByteOfAFormat2BundleIsRefusedWithAReason() throws Exception {
        Path img = tmp.resolve("flip.img");
        Files.write(img, text(new Random(6), 300_000));
        Path b = new BundleBuilder(tmp).signedBy(PKI, PKI.signer).imageFile("rootfs", img).format2(Chunking.DEFAULT).build("f.rsub");
        byte[] good = Files.readAllBytes(b);
        BundleVerifier v = new BundleVerifier(VerifyOptions.of(PKI.keyring()).withVariant("rsu-a1"));
        Random r = new Random(8);
        Set<Reason> seen = java.util.EnumSet.noneOf(Reason.class);
        for (int i = 0; i < 120; i++) {
            byte[] bad = good.clone();
            int at = i % 2 == 0 ? r.nextInt((int) BundleHeader.read(b).payloadOffset()) : r.nextInt(bad.length);
            bad[at] ^= (byte) (1 + r.nextInt(255));
            Path p = Files.write(tmp.resolve("bad.rsub"), bad);
            try {
                v.verifyFile(p, null);
                throw new AssertionError("byte " + at + " changed and the bundle still verified");
            } catch (BundleException e) {
                seen.add(e.reason());
            }
        }
        assertThat(seen).contains(Reason.CHUNK_HASH_MISMATCH, Reason.SIGNATURE_INVALID);
    }

    @Test
    void aManifestWhoseStoredLengthsDoNotCoverTheImageIsMalformed() throws Exception {
        Path img = tmp.resolve("rootfs.img");
        Files.write(img, text(new Random(4), 300_000));
        Manifest m = BundleHeader.read(new BundleBuilder(tmp).imageFile("rootfs", img).format2(Chunking.DEFAULT).unsigned().build("m.rsub")).manifest();
        ManifestImage im = m.images().get(0);
        List<ManifestImage.Stored> st = new ArrayList<>(im.cdc().stored());
        ManifestImage.Stored first = st.get(0);
        st.set(0, new ManifestImage.Stored(first.length() + 1, first.storedLength(), first.storedSha256()));
        Manifest bad = new Manifest(m.release(), m.securityVersion(), m.compatible(), m.components(), m.createdAt(),
                List.of(new ManifestImage(im.slotClass(), 0, im.size(), im.sha256(), im.chunkSize(), im.chunks(),
                        new ManifestImage.Cdc(im.cdc().min(), im.cdc().avg(), "zstd", im.cdc().prefix(), st))));
        assertThatThrownBy(() -> ManifestCodec.decode(ManifestCodec.encode(bad))).isInstanceOfSatisfying(BundleException.class, e -> {
            assertThat(e.reason()).isEqualTo(Reason.MALFORMED_MANIFEST);
            assertThat(e.getMessage()).contains("lengths add up to");
        });
        // and a format 1 manifest (no cdc field) still decodes as before
        Manifest v1 = BundleHeader.read(new BundleBuilder(tmp).image("rootfs", 100_000).unsigned().build("v1.rsub")).manifest();
        assertThat(ManifestCodec.decode(ManifestCodec.encode(v1))).isEqualTo(v1);
        assertThat(new String(ManifestCodec.encode(v1), StandardCharsets.UTF_8)).doesNotContain("cdc");
    }
}
