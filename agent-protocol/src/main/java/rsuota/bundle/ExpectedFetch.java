package rsuota.bundle;

import java.util.HashSet;
import java.util.Set;

/**
 * The payload bytes a unit fetches to install a bundle, decided as the agent decides: a format 2
 * chunk whose identity the unit already holds is copied from its active slot, and so is a second
 * occurrence of a chunk in a single-image bundle (from the target slot); every other chunk is
 * fetched in its stored (compressed) form. A format 1 image is fetched whole.
 *
 * @param fetchBytes  stored bytes fetched (header not included)
 * @param fetchChunks chunks fetched
 * @param reuseBytes  image bytes copied instead of fetched
 * @param totalChunks chunks in the bundle
 */
public record ExpectedFetch(long fetchBytes, int fetchChunks, long reuseBytes, int totalChunks) {

    /** What a unit holding the chunk identities {@code held} fetches for {@code next}. */
    public static ExpectedFetch of(Manifest next, Set<String> held) {
        long fetch = 0;
        long reuse = 0;
        int fetched = 0;
        int total = 0;
        for (ManifestImage im : next.images()) {
            ChunkLayout l = ChunkLayout.of(im);
            Set<String> seen = new HashSet<>();
            for (int c = 0; c < l.count(); c++) {
                total++;
                boolean twin = im.compressed() && next.images().size() == 1 && !seen.add(l.identity(c));
                if (im.compressed() && (held.contains(l.identity(c)) || twin)) {
                    reuse += l.length(c);
                } else {
                    fetch += l.storedLength(c);
                    fetched++;
                }
            }
        }
        return new ExpectedFetch(fetch, fetched, reuse, total);
    }

    /** What a unit running the release of {@code running} (its manifest) fetches for {@code next}. */
    public static ExpectedFetch from(Manifest running, Manifest next) {
        return of(next, identities(running));
    }

    /** The chunk identities a bundle's images hold (their chunk hashes, over the uncompressed bytes). */
    public static Set<String> identities(Manifest m) {
        Set<String> ids = new HashSet<>();
        for (ManifestImage im : m.images()) ids.addAll(im.chunks());
        return ids;
    }
}
