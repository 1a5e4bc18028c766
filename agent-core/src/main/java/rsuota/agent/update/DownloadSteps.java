package rsuota.agent.update;

import rsuota.wire.MqttEvent;
import rsuota.wire.SlotState;
import rsuota.agent.AgentException;
import rsuota.agent.AgentError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.download.BandwidthSchedule;
import rsuota.agent.download.BundleSource;
import rsuota.agent.download.HttpBundleSource;
import rsuota.agent.download.DownloadTarget;
import rsuota.agent.download.SlotFiller;
import rsuota.agent.download.VerifiedHeader;
import rsuota.bundle.BundleVerifier;
import rsuota.wire.Bandwidth;
import rsuota.bundle.VerifyOptions;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.Slot;
import rsuota.hal.storage.DurableFiles;

/**
 * The engine's side of a download, PENDING and DOWNLOADING; {@link SlotFiller} does the bytes.
 * What this adds is the order around it that makes a restart safe: the verified header is kept
 * ({@value #HEADER_FILE}) before DOWNLOADING is persisted, the slot is made unbootable before its
 * first byte changes, VERIFIED is persisted only after every image hash matched on the slot. It
 * also keeps the advisory progress ({@link Progress}) that {@code status} shows.
 */
final class DownloadSteps {
    /** Logs as {@link UpdateEngine}: the logger name is in every line, and operators filter on it. */
    private static final Logger log = LoggerFactory.getLogger(UpdateEngine.class);

    static final String HEADER_FILE = "header.bin";

    private final UpdateEngine engine;
    private final UpdateEngine.Parts parts;
    private final Path dir;
    private final BootSlots slots;
    private final RandomGenerator random = new java.util.SplittableRandom();
    private volatile Progress progress;
    /** What the last fill in this process did (tests, diagnostics); null before the first. */
    private volatile rsuota.agent.download.FillReport lastFill;
    private volatile Consumer<Progress> progressListener = p -> { };
    /**
     * The header {@link #pending} just verified, for the {@link #downloading} that follows it in the
     * same process: verified once, not parsed twice (a 1 GiB image's manifest is about 2 MiB of
     * JSON). A restart, or any other order, verifies the kept {@value #HEADER_FILE} again.
     */
    private volatile VerifiedHeader justVerified;

    DownloadSteps(UpdateEngine engine, UpdateEngine.Parts parts, Path dir, BootSlots slots) {
        this.engine = engine;
        this.parts = parts;
        this.dir = dir;
        this.slots = slots;
        this.progress = Progress.read(dir);
    }

    Progress progress() {
        return progress;
    }

    rsuota.agent.download.FillReport lastFill() {
        return lastFill;
    }

    void setProgressListener(Consumer<Progress> l) {
        progressListener = l == null ? p -> { } : l;
    }

    /** A new order starts counting from zero. */
    void clearProgress() throws IOException {
        Files.deleteIfExists(dir.resolve(Progress.FILE));
        progress = null;
    }

    /** Forgets the download in progress (journal, kept header): a replacing order starts afresh. */
    void discard() throws IOException {
        justVerified = null;
        SlotFiller.deleteJournal(dir);
        SlotFiller.deleteTables(dir);
        Files.deleteIfExists(dir.resolve(HEADER_FILE));
    }

    void pending() throws IOException, AgentException, AgentException, InterruptedException, SlotFiller.Cancelled {
        EngineState.Order o = engine.state().order();
        Slot target = slots.inactive();
        SlotFiller filler = filler(target);
        try (BundleSource src = BundleSource.open(o.source(), http(o))) {
            VerifiedHeader.Fetched fetched = filler.fetchHeader(src, o.manifestDigest());
            VerifiedHeader h = fetched.header();
            if (engine.replacementWaiting()) throw new SlotFiller.Cancelled();
            var m = h.manifest();
            int chunks = m.images().stream().mapToInt(i -> i.chunkCount()).sum();
            EngineState.Target t = new EngineState.Target(m.release(), h.manifestDigest(), m.securityVersion(),
                    target.name(), h.identity().size(), h.identity().etag(), m.payloadSize(), chunks, src.bytesFetched());
            DurableFiles.moveAtomically(fetched.file(), dir.resolve(HEADER_FILE));
            justVerified = h;
            engine.transition(UpdateEvent.SUCCESS, st -> st.withTarget(t)
                    .withSlot(target.name(), new EngineState.SlotRecord(null, null, SlotState.WRITING.wire())), Map.of("slot", target.name()));
        }
    }

    void downloading() throws IOException, AgentException, AgentException, InterruptedException, SlotFiller.Cancelled {
        EngineState.Target t = engine.state().target();
        Slot target = Slot.parse(t.slot());
        if (target == slots.booted()) {
            throw new AgentException(AgentError.SLOT_IS_RUNNING, "slot " + target + " is the running system; refusing to write it");
        }
        // A/B order: the slot is unbootable before its first byte changes, and stays so until activation.
        try {
            parts.boot().markBad(target);
        } catch (BootControlException e) {
            throw new AgentException(AgentError.BOOT_CONTROL, "cannot mark slot " + target + " bad before writing it: " + e.getMessage());
        }
        SlotFiller filler = filler(target);
        VerifiedHeader h = keptHeader(filler, t);
        // bytes fetched and reused accumulate over restarts of the same download: the journal records
        // both (each chunk once, fetched bytes after every fetch), so a kill -9 loses none; plus the header
        long base = t.headerBytes();
        MqttEvent.DownloadBytes cost;
        try (BundleSource src = BundleSource.open(engine.state().order().source(), http(engine.state().order()))) {
            var report = filler.fill(src, h, (fetched, verified, reused, chunksReused) -> onProgress(new Progress(t.release(), base + fetched,
                    verified, t.chunksTotal(), t.payloadBytes(), reused, chunksReused)), engine::replacementWaiting);
            lastFill = report;
            log.info("slot {} filled: {} chunks ({} bytes) fetched, {} chunks ({} bytes) copied from the active slot in this run;"
                    + " {} chunks ({} bytes) copied over all runs; active slot index {}", target, report.chunksFetched(), report.bytesFetched(),
                    report.chunksReused(), report.bytesReused(), report.totalChunksReused(), report.totalBytesReused(),
                    report.activeIndexBuilt() ? "built by reading the slot" : "reused (or no reuse)");
            report.notes().forEach(n -> log.warn("{}: {}", n.code().wire(), n.message()));
            // what the install cost the link and what it copied instead, header and earlier runs included
            // (reused bytes from the journal, which names each chunk once however many runs it took)
            cost = new MqttEvent.DownloadBytes(base + report.totalBytesFetched(), report.totalBytesReused());
        }
        Map<String, String> detail = new HashMap<>(cost.detail());
        detail.put("slot", target.name());
        engine.transition(UpdateEvent.SUCCESS, st -> st.withSlot(target.name(),
                new EngineState.SlotRecord(t.release(), t.manifestDigest(), SlotState.VERIFIED.wire())), detail);
        // progress.json stays: it tells status how many bytes this install fetched.
        SlotFiller.deleteJournal(dir);
        SlotFiller.deleteTables(dir);
    }

    /**
     * The header of the download: the one {@link #pending} verified in this process, used once, else
     * the kept copy verified again, streamed from its file.
     */
    private VerifiedHeader keptHeader(SlotFiller filler, EngineState.Target t) throws IOException, AgentException {
        VerifiedHeader just = justVerified;
        justVerified = null;
        if (just != null && just.manifestDigest().equals(t.manifestDigest()) && just.identity().equals(new BundleSource.Identity(t.bundleSize(), t.etag()))) {
            return just;
        }
        try {
            return filler.verifyHeader(dir.resolve(HEADER_FILE), new BundleSource.Identity(t.bundleSize(), t.etag()), t.manifestDigest());
        } catch (NoSuchFileException e) {
            throw new AgentException(AgentError.STATE_LOST, "header of the download in progress is missing from " + dir + "; order the install again");
        }
    }

    /** The HTTP options for this order: a rollout's bandwidth cap replaces the unit's cap and schedule. */
    private HttpBundleSource.Options http(EngineState.Order o) {
        if (o.bandwidthCap() == null) return parts.http();
        return parts.http().withBandwidth(BandwidthSchedule.constant(new Bandwidth(o.bandwidthCap())));
    }

    /** The download into {@code target}, verifying against the keyring, variant and the current security floor. */
    private SlotFiller filler(Slot target) {
        long floor = engine.state().securityFloor();
        VerifyOptions opts = VerifyOptions.of(parts.keyring()).withVariant(parts.variant()).withMinSecurityVersion(floor)
                .withTrustedNow(parts.clockTrusted() ? () -> Optional.of(parts.clock().instant()) : Optional::empty)
                .withStrict(parts.strictSignatures());
        return new SlotFiller(new BundleVerifier(opts), new DownloadTarget(parts.storage(), target, dir, target.other()), parts.retry(), parts.sleeper(),
                random, parts.hook());
    }

    private void onProgress(Progress p) {
        progress = p;
        progressListener.accept(p);
        try {
            p.write(dir);
        } catch (IOException e) {
            log.warn("progress not written: {}", e.toString());
        }
    }
}
