package rsuota.agent.update;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.download.FillReport;
import rsuota.agent.download.SlotFiller;
import rsuota.bundle.BundleException;
import rsuota.bundle.BundleHeader;
import rsuota.bundle.ManifestImage;
import rsuota.hal.boot.Slot;
import rsuota.hal.storage.SlotStorage;

/**
 * After a commit is durable, indexes the newly active slot for the next install's reuse, on one
 * background thread with the download's CPU policy ({@code SCHED_IDLE} by default), so that the next install does not read the whole slot before
 * its first fetch. Best effort by design: it never delays or fails the commit; an error is logged
 * and kept as the outcome, and the next install builds the index on first need as before (also
 * when this one is missing or no longer bound to the slot's content).
 *
 * <p>The chunking is the committed release's (its format 2 manifest, from the header kept in
 * {@value DownloadSteps#HEADER_FILE}); a format 1 release has no content-defined chunks, so there
 * is nothing to index.
 */
final class CommitIndexer {
    private static final Logger log = LoggerFactory.getLogger(UpdateEngine.class);

    /** What became of one indexing. */
    enum Result { BUILT, ALREADY_CURRENT, NOTHING_TO_INDEX, FAILED }

    record Outcome(Slot slot, Result result, String detail) {}

    private final Path dir;
    private final SlotStorage storage;
    private volatile CompletableFuture<Outcome> last = CompletableFuture.completedFuture(null);

    CommitIndexer(Path dir, SlotStorage storage) {
        this.dir = dir;
        this.storage = storage;
    }

    /** The last indexing started (completed with null if none): tests and status wait on it. */
    CompletableFuture<Outcome> last() {
        return last;
    }

    /** Starts indexing {@code slot}, which now runs release {@code manifestDigest}; returns at once. */
    synchronized CompletableFuture<Outcome> start(Slot slot, String manifestDigest) {
        CompletableFuture<Outcome> f = new CompletableFuture<>();
        CompletableFuture<Outcome> before = last;
        // The download's thread policy (SCHED_IDLE by default): it reads and hashes the whole slot right after the
        // roadside services restarted on it, and must not slow them.
        Thread t = rsuota.agent.download.DownloadThreads.factory("rsu-commit-index").newThread(() -> {
            before.join(); // one at a time: a second commit's indexing waits for the first
            Outcome o;
            try {
                o = index(slot, manifestDigest);
            } catch (IOException | RuntimeException e) {
                o = new Outcome(slot, Result.FAILED, e.toString());
            }
            if (o.result() == Result.FAILED) log.warn("index of the committed slot {} not built (the next install builds it): {}", slot, o.detail());
            else log.info("index of the committed slot {}: {} ({})", slot, o.result(), o.detail());
            f.complete(o);
        });
        last = f;
        t.start();
        return f;
    }

    private Outcome index(Slot slot, String manifestDigest) throws IOException {
        BundleHeader.Spooled h;
        try {
            // parsed as it streams from the file: the header is not held whole (an install's memory, docs/benchmarks.md)
            h = BundleHeader.readSpooled(dir.resolve(DownloadSteps.HEADER_FILE));
        } catch (NoSuchFileException e) {
            return new Outcome(slot, Result.FAILED, "the committed release's header " + DownloadSteps.HEADER_FILE + " is gone; its chunking is unknown");
        } catch (BundleException e) {
            return new Outcome(slot, Result.FAILED, DownloadSteps.HEADER_FILE + " does not parse: " + e.getMessage());
        }
        if (!h.manifestDigest().equals(manifestDigest)) {
            return new Outcome(slot, Result.FAILED, DownloadSteps.HEADER_FILE + " is not the committed release's (manifest digest differs)");
        }
        ManifestImage first = h.manifest().images().get(0);
        if (!first.compressed()) {
            return new Outcome(slot, Result.NOTHING_TO_INDEX, "format 1 release: fixed-size chunks, no content-defined chunks to reuse");
        }
        List<FillReport.Note> notes = new ArrayList<>();
        boolean built = SlotFiller.indexSlot(storage, slot, dir, first.chunking(), notes);
        String detail = "chunking " + first.chunking() + (notes.isEmpty() ? "" : "; " + notes);
        return new Outcome(slot, built ? Result.BUILT : Result.ALREADY_CURRENT, detail);
    }
}
