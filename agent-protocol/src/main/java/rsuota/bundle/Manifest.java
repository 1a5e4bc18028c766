package rsuota.bundle;

import java.util.List;
import java.util.Map;

/**
 * What a bundle promises, signed as a whole.
 *
 * @param release         release version shown to people ("2.4.0")
 * @param securityVersion monotonic anti-downgrade counter; devices refuse anything below their floor
 * @param compatible      variant ids this release may be installed on
 * @param components      versions of what it carries: baseImage, app, agent
 * @param createdAt       ISO-8601 instant the bundle was built
 * @param images          payload images, contiguous and in payload order
 */
public record Manifest(String release, long securityVersion, List<String> compatible,
                       Map<String, String> components, String createdAt, List<ManifestImage> images) {
    public Manifest {
        compatible = compatible == null ? null : List.copyOf(compatible);
        components = components == null ? null : Map.copyOf(components);
        images = images == null ? null : List.copyOf(images);
    }

    /** Sum of all images' stored sizes: the payload's exact length. */
    public long payloadSize() {
        return images.stream().mapToLong(ManifestImage::storedSize).sum();
    }

    /** Sum of all image sizes: the bytes written to slots. */
    public long imagesSize() {
        return images.stream().mapToLong(ManifestImage::size).sum();
    }

    /** The header format this manifest needs: 2 when its images carry content-defined compressed chunks. */
    public int formatVersion() {
        return images.get(0).compressed() ? BundleFormat.FORMAT_V2 : BundleFormat.FORMAT_VERSION;
    }

    public ManifestImage image(String slotClass) {
        return images.stream().filter(i -> i.slotClass().equals(slotClass)).findFirst().orElse(null);
    }
}
