package rsuota.bundle;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The one place a bundle becomes trusted: signature and signer chain, then policy (variant,
 * anti-downgrade), then, separately, the payload chunk by chunk. Devices call
 * {@link #verifyHeader} before they request any payload byte.
 */
public final class BundleVerifier {
    private final VerifyOptions options;

    public BundleVerifier(VerifyOptions options) {
        this.options = options;
    }

    public VerifyOptions options() {
        return options;
    }

    /** Checks signature, chain, usage, algorithms, then variant and security version. */
    public VerifiedManifest verifyHeader(BundleHeader h) throws BundleException {
        if (!h.signed()) throw unsigned();
        SignerInfo signer = CmsVerifier.verify(h.manifestBytes(), h.signature(), options);
        Manifest m = h.manifest();
        checkPolicy(m);
        return new VerifiedManifest(m, h.manifestBytes(), Sha256.of(h.manifestBytes()), signer, h.payloadOffset());
    }

    /**
     * A header verified in place ({@link BundleHeader#readInPlace}): what a unit needs of it.
     *
     * @param manifestDigest lower-case hex SHA-256 of the manifest bytes (the identity controllers name)
     */
    public record Verified(Manifest manifest, String manifestDigest, SignerInfo signer, long payloadOffset) {}

    /** As {@link #verifyHeader(BundleHeader)}, over the manifest where it lies in the header's bytes. */
    public Verified verifyHeader(BundleHeader.InPlace h) throws BundleException {
        if (!h.signed()) throw unsigned();
        SignerInfo signer = CmsVerifier.verify(h.head(), h.manifestOffset(), h.manifestLength(), h.signature(), options);
        checkPolicy(h.manifest());
        return new Verified(h.manifest(), Sha256.of(h.head(), h.manifestOffset(), h.manifestLength()), signer, h.payloadOffset());
    }

    private static BundleException unsigned() {
        return new BundleException(Reason.UNSIGNED, "bundle has no signature (made with --unsigned): "
                + "sign its manifest and attach the signature with 'rsu-bundle attach-signature'");
    }

    /** Variant and anti-downgrade checks alone (also used as pre-flight before a download). */
    public void checkPolicy(Manifest m) throws BundleException {
        if (options.variant() != null && !m.compatible().contains(options.variant())) {
            throw new BundleException(Reason.INCOMPATIBLE_VARIANT, "release " + m.release() + " supports variants "
                    + m.compatible() + ", not this device's variant " + options.variant());
        }
        if (m.securityVersion() < options.minSecurityVersion()) {
            throw new BundleException(Reason.DOWNGRADE, "release " + m.release() + " has security version "
                    + m.securityVersion() + ", below this device's floor " + options.minSecurityVersion());
        }
    }

    /** Verifies a whole bundle file: header, then every chunk and image, then that nothing trails. */
    public VerifiedManifest verifyFile(Path bundle, PayloadVerifier.Progress progress) throws BundleException, IOException {
        BundleHeader h = BundleHeader.read(bundle);
        VerifiedManifest vm = verifyHeader(h);
        try (FileChannel ch = FileChannel.open(bundle, StandardOpenOption.READ)) {
            long expectedEnd = h.payloadOffset() + h.manifest().payloadSize();
            ch.position(h.payloadOffset());
            PayloadVerifier.verify(ch, h.manifest(), progress);
            if (ch.size() > expectedEnd) {
                throw new BundleException(Reason.TRAILING_DATA, (ch.size() - expectedEnd)
                        + " bytes follow the last image (bundle is " + ch.size() + " bytes, manifest accounts for " + expectedEnd + ")");
            }
        }
        return vm;
    }
}
