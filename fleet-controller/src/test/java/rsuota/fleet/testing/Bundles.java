package rsuota.fleet.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.pki.TestPki;

/** Real signed bundles for controller tests, built in a work folder and copied where needed. */
public final class Bundles {
    private Bundles() {}

    /** A small bundle for {@code version}, signed by the PKI's good signer, compatible with {@code variants}. */
    public static Path build(TestPki pki, Path work, String version, String... variants) throws IOException {
        return build(pki, pki.signer, work, version, variants);
    }

    public static Path build(TestPki pki, TestPki.Identity signer, Path work, String version, String... variants) throws IOException {
        Files.createDirectories(work);
        return new BundleBuilder(work).release(version).compatible(variants).signedBy(pki, signer)
                .image("rootfs", 80_000).build("rsu-" + version + "-" + signer.cert().getSerialNumber() + ".rsub");
    }

    /** Copies a bundle into a controller's artifact directory and returns the name it has there. */
    public static String publish(Path bundle, Path artifacts) throws IOException {
        Files.copy(bundle, artifacts.resolve(bundle.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        return bundle.getFileName().toString();
    }
}
