package rsuota.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.pki.TestPki;

/**
 * Random byte flips and truncations of a valid bundle: none verifies, and every refusal is a
 * {@link BundleException} (no other exception escapes the verifier).
 */
class BundleMutationPropertyTest {
    static Path dir;
    static byte[] original;
    static BundleVerifier verifier;
    static long payloadOffset;
    static final Set<Reason> SEEN = EnumSet.noneOf(Reason.class);

    @BeforeContainer
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("rsub-fuzz");
        TestPki pki = new TestPki();
        Path good = new BundleBuilder(dir).signedBy(pki, pki.signer).image("rootfs", 150_000).image("app", 66_000).build("good.rsub");
        original = Files.readAllBytes(good);
        payloadOffset = BundleHeader.read(good).payloadOffset();
        verifier = new BundleVerifier(VerifyOptions.of(pki.keyring()).withVariant("rsu-a1"));
        verifier.verifyFile(good, null); // the unmutated bundle is good
    }

    @AfterContainer
    static void cleanUp() throws IOException {
        // the mutation classes hit header, signature and payload: each kind of refusal must have been seen
        assertThat(SEEN).contains(Reason.CHUNK_HASH_MISMATCH, Reason.TRUNCATED, Reason.SIGNATURE_INVALID);
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    record Flip(int position, int mask) {}

    @Provide
    Arbitrary<Flip> flips() {
        // Half the flips land in the header (where parsing and signatures live), half anywhere.
        Arbitrary<Integer> header = Arbitraries.integers().between(0, (int) payloadOffset - 1);
        Arbitrary<Integer> anywhere = Arbitraries.integers().between(0, original.length - 1);
        return Combinators.combine(Arbitraries.oneOf(header, anywhere), Arbitraries.integers().between(1, 255)).as(Flip::new);
    }

    @Property(tries = 1500)
    void noByteFlipVerifies(@ForAll("flips") Flip flip) throws IOException {
        byte[] b = original.clone();
        b[flip.position()] ^= (byte) flip.mask();
        assertRefused(b, "flip " + flip);
    }

    @Property(tries = 600)
    void noTruncationVerifies(@ForAll("cuts") int length) throws IOException {
        assertRefused(Arrays.copyOf(original, length), "truncated to " + length);
    }

    @Provide
    Arbitrary<Integer> cuts() {
        return Arbitraries.integers().between(0, original.length - 1);
    }

    @Property(tries = 300)
    void noFlipsPlusTruncationVerifies(@ForAll("flips") Flip flip, @ForAll("cuts") int length) throws IOException {
        byte[] b = original.clone();
        b[flip.position()] ^= (byte) flip.mask();
        assertRefused(Arrays.copyOf(b, Math.max(length, 1)), "flip " + flip + " then truncated to " + length);
    }

    @Provide
    Arbitrary<Integer> headerCuts() {
        return Arbitraries.integers().between(0, (int) payloadOffset);
    }

    /**
     * A unit parses and verifies its fetched header from the file it streamed it into
     * ({@link BundleHeader#readSpooled}); tools read it from a stream. Over flipped and cut headers the two agree:
     * both verify (same digest and payload offset), or both refuse with the same reason and message.
     */
    @Property(tries = 800)
    void aHeaderVerifiedFromItsFileAgreesWithTheStreamedOne(@ForAll("flips") Flip flip, @ForAll("headerCuts") int length) throws IOException {
        byte[] b = original.clone();
        if (flip.position() < payloadOffset) b[flip.position()] ^= (byte) flip.mask();
        byte[] head = Arrays.copyOf(b, length);
        Path file = Files.createTempFile(dir, "h", ".bin");
        try {
            Files.write(file, head);
            assertThat(outcome(() -> {
                BundleVerifier.Verified v = verifier.verifyHeader(BundleHeader.readSpooled(file));
                return v.manifestDigest() + " " + v.payloadOffset();
            })).isEqualTo(outcome(() -> {
                VerifiedManifest v = verifier.verifyHeader(BundleHeader.read(new java.io.ByteArrayInputStream(head)));
                return v.manifestDigest() + " " + v.payloadOffset();
            }));
        } finally {
            Files.delete(file);
        }
    }

    private interface Check {
        String run() throws BundleException, IOException;
    }

    private static String outcome(Check c) {
        try {
            return "verified " + c.run();
        } catch (BundleException e) {
            return e.reason() + ": " + e.getMessage();
        } catch (IOException e) {
            return "io: " + e.getMessage();
        }
    }

    private static void assertRefused(byte[] bytes, String what) throws IOException {
        Path p = Files.createTempFile(dir, "m", ".rsub");
        try {
            Files.write(p, bytes);
            try {
                verifier.verifyFile(p, null);
                throw new AssertionError("mutated bundle verified: " + what);
            } catch (BundleException e) {
                synchronized (SEEN) {
                    SEEN.add(e.reason());
                }
                assertThat(e.getMessage()).isNotBlank();
            }
        } finally {
            Files.delete(p);
        }
    }
}
