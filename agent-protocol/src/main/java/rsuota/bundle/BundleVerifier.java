package rsuota.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
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
     * A header verified from its file ({@link BundleHeader#readSpooled}): what a unit needs of it.
     *
     * @param manifestDigest lower-case hex SHA-256 of the manifest bytes (the identity controllers name)
     */
    public record Verified(Manifest manifest, String manifestDigest, SignerInfo signer, long payloadOffset) {}

    /**
     * As {@link #verifyHeader(BundleHeader)}, streaming the manifest from the header's file through the
     * signature check. The bytes must hash as they did when parsed: a file changed in between is refused.
     */
    public Verified verifyHeader(BundleHeader.Spooled h) throws BundleException, IOException {
        if (!h.signed()) throw unsigned();
        java.security.MessageDigest sha = Sha256.newDigest();
        SignerInfo signer;
        try (FileChannel ch = FileChannel.open(h.file(), StandardOpenOption.READ)) {
            signer = CmsVerifier.verify(out -> {
                ch.position(h.manifestOffset());
                InputStream in = new BundleHeader.Range(Channels.newInputStream(ch), h.manifestLength());
                byte[] buf = new byte[8192];
                for (int n; (n = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                    out.write(buf, 0, n);
                }
            }, h.signature(), options);
        }
        if (!Sha256.hex(sha.digest()).equals(h.manifestDigest())) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "the header in " + h.file() + " changed between its parse and its signature check");
        }
        checkPolicy(h.manifest());
        return new Verified(h.manifest(), h.manifestDigest(), signer, h.payloadOffset());
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
