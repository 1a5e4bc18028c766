package rsuota.lab.control;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import rsuota.bundle.BundleException;
import rsuota.bundle.BundleHeader;
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

    public static Built build(TestPki pki, Path artifacts, Path work, String version, long securityVersion, java.util.List<String> compatible,
                              long imageSize, int chunkSize, FaultProfile profile) throws IOException {
        Files.createDirectories(work);
        Path image = work.resolve(version + ".rootfs.img");
        try (OutputStream o = Files.newOutputStream(image)) {
            o.write(profile.header());
        }
        // The rest of the image: pseudo-random like a compressed rootfs, seeded by version so a rerun builds the same bytes.
        Path rest = work.resolve(version + ".rest.img");
        BundleBuilder.writeRandom(rest, imageSize - FaultProfile.HEADER_BYTES, new Random(version.hashCode()));
        try (OutputStream o = Files.newOutputStream(image, java.nio.file.StandardOpenOption.APPEND)) {
            Files.copy(rest, o);
        }
        Files.delete(rest);
        Path bundle = new BundleBuilder(artifacts).signedBy(pki, pki.signer).release(version).securityVersion(securityVersion)
                .compatible(compatible.toArray(String[]::new)).component("app", "rsu-app-" + version).chunkSize(chunkSize)
                .imageFile("rootfs", image).build(version + ".rsub");
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
}
