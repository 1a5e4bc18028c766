package rsuota.lab.control;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import rsuota.bundle.BundleException;
import rsuota.bundle.BundleHeader;
import rsuota.bundle.Chunking;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.pki.TestPki;
import rsuota.lab.scenario.FaultProfile;

/**
 * Builds the scenario's releases as real signed bundles (test PKI, {@link BundleBuilder}) whose
 * rootfs image starts with the release's {@link FaultProfile} header, straight into the
 * controller's artifact directory.
 */
public final class Releases {
    private Releases() {}

    /** A built bundle: where, how big, and its image (the factory image is also copied into slot A). */
    public record Built(String version, Path bundle, Path image, long bundleSize, long payloadSize, int chunkSize, int chunks,
                        long headerSize, FaultProfile profile) {}

    /** The content-defined chunking of the lab's format 2 bundles: small chunks for its small images. */
    public static final Chunking LAB_CDC = new Chunking(4 << 10, 16 << 10, 64 << 10);

    /**
     * What to build: the bundle {@code format} (1 or 2), and for a minor release the {@code base} image it
     * starts from (null: an image of its own) with {@code change} of it rewritten.
     */
    public record Shape(int format, Path base, double change) {
        public static final Shape FORMAT_1 = new Shape(1, null, 0);
    }

    public static Built build(TestPki pki, Path artifacts, Path work, String version, long securityVersion, java.util.List<String> compatible,
                              long imageSize, int chunkSize, FaultProfile profile, Shape shape) throws IOException {
        Files.createDirectories(work);
        Path image = work.resolve(version + ".rootfs.img");
        try (OutputStream o = Files.newOutputStream(image)) {
            o.write(profile.header());
        }
        Path rest = work.resolve(version + ".rest.img");
        if (shape.base() == null) {
            // pseudo-random like a compressed rootfs, seeded by version so a rerun builds the same bytes
            BundleBuilder.writeRandom(rest, imageSize - FaultProfile.HEADER_BYTES, new Random(version.hashCode()));
        } else {
            writeMinor(shape.base(), rest, shape.change(), new Random(version.hashCode()));
        }
        try (OutputStream o = Files.newOutputStream(image, java.nio.file.StandardOpenOption.APPEND)) {
            Files.copy(rest, o);
        }
        Files.delete(rest);
        BundleBuilder bb = new BundleBuilder(artifacts).signedBy(pki, pki.signer).release(version).securityVersion(securityVersion)
                .compatible(compatible.toArray(String[]::new)).component("app", "rsu-app-" + version).imageFile("rootfs", image);
        if (shape.format() == 2) {
            bb.format2(LAB_CDC);
            chunkSize = LAB_CDC.max(); // the most a cut can cost
        } else {
            bb.chunkSize(chunkSize);
        }
        Path bundle = bb.build(version + ".rsub");
        try {
            BundleHeader h = BundleHeader.read(bundle);
            long payload = h.manifest().payloadSize();
            int chunks = h.manifest().images().stream().mapToInt(i -> i.chunkCount()).sum();
            long size = Files.size(bundle);
            return new Built(version, bundle, image, size, payload, chunkSize, chunks, size - payload, profile);
        } catch (BundleException e) {
            throw new IOException("bundle " + bundle + " just built does not read back: " + e.oneLine(), e);
        }
    }

    /**
     * A minor release's image after the fault profile header: the base image's bytes with {@code change}
     * of them rewritten, in three runs spread over the image (what a few changed files look like).
     */
    private static void writeMinor(Path baseImage, Path rest, double change, Random rnd) throws IOException {
        byte[] body;
        try (var in = Files.newInputStream(baseImage)) {
            in.skipNBytes(FaultProfile.HEADER_BYTES);
            body = in.readAllBytes();
        }
        int run = (int) (body.length * change / 3);
        for (int k = 1; k <= 3 && run > 0; k++) {
            int at = (int) ((long) body.length * k / 4) - run / 2;
            byte[] fresh = new byte[run];
            rnd.nextBytes(fresh);
            System.arraycopy(fresh, 0, body, Math.max(0, at), Math.min(run, body.length - Math.max(0, at)));
        }
        Files.write(rest, body);
    }
}
