package rsuota.fleet.domain;

import java.time.Instant;
import java.util.List;

/**
 * A release the controller verified and may target devices with.
 *
 * @param version         the manifest's release version (unique)
 * @param bundleUrl       where devices fetch the bundle: an absolute URL, or a controller path
 *                        beginning with {@code /artifacts/} resolved against the controller's public URL
 * @param manifestDigest  lower-case hex SHA-256 of the signed manifest bytes
 * @param manifestJson    the exact signed manifest bytes as UTF-8 text
 * @param compatible      variant ids from the verified manifest
 * @param securityVersion the manifest's anti-downgrade counter
 * @param previousStable  the release devices roll back to (null for the first release)
 * @param notes           free release notes
 * @param signer          subject DN of the bundle's signer
 * @param createdAt       when it was created
 * @param createdBy       label of the token that created it
 */
public record Release(String version, String bundleUrl, String manifestDigest, String manifestJson, List<String> compatible,
                      long securityVersion, String previousStable, String notes, String signer, Instant createdAt, String createdBy) {
    public Release {
        compatible = List.copyOf(compatible);
    }

    /** The signed manifest, parsed (it verified at creation; one that no longer parses is the store's fault). */
    public rsuota.bundle.Manifest manifest() {
        try {
            return rsuota.bundle.ManifestCodec.decode(manifestJson.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (rsuota.bundle.BundleException e) {
            throw new IllegalStateException("stored manifest of release " + version + " does not parse: " + e.getMessage(), e);
        }
    }

    public boolean supports(String variant) {
        return compatible.contains(variant);
    }
}
