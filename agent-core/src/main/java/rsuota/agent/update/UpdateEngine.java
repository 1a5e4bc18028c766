package rsuota.agent.update;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.download.BundleSource;
import rsuota.agent.download.DownloadJournal;
import rsuota.agent.download.HttpBundleSource;
import rsuota.agent.download.RetryPolicy;
import rsuota.agent.download.Sleeper;
import rsuota.agent.report.EventSink;
import rsuota.bundle.BundleVerifier;
import rsuota.bundle.VerifyOptions;
import rsuota.hal.boot.BootControl;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.Slot;
import rsuota.hal.storage.SlotStorage;

/**
 * The update state machine. Each step persists its transition ({@link StateStore}) before it acts,
 * so a kill -9 or power cut at any instant leaves an engine that resumes where it was.
 *
 * <p>Threading: {@link #order} may be called from another thread (desired state arriving over
 * MQTT) while {@link #run} works; a download in flight is cancelled between chunks and the newer
 * order takes over.
 */
public final class UpdateEngine {
    private static final Logger log = LoggerFactory.getLogger(UpdateEngine.class);

    /** Restarts into the same in-flight state before the engine gives up (Mender stops state loops too). */
    static final int MAX_REENTRIES = 50;
    static final String HEADER_FILE = "header.bin";

    /** Everything the engine needs besides its directory. */
    public record Parts(BootControl boot, SlotStorage storage, java.util.List<java.security.cert.X509Certificate> keyring,
                        String variant, boolean clockTrusted, String systemRelease, RetryPolicy retry,
                        HttpBundleSource.Options http, EventSink events, Clock clock, Sleeper sleeper, CrashHook hook) {}

    private final Path dir;
    private final Parts parts;
    private final StateStore store;
    private final RandomGenerator random = new java.util.SplittableRandom();
    private volatile EngineState state;
    private volatile EngineState.Order replacement;
    private volatile Progress progress;

    public UpdateEngine(Path stateDir, Parts parts) throws IOException, BootControlException {
        this.dir = stateDir;
        this.parts = parts;
        this.store = new StateStore(stateDir);
        Files.createDirectories(stateDir);
        EngineState s = store.load(now());
        Slot booted = parts.boot().booted();
        if (s.slots().isEmpty()) {
            // First start on this box: the running slot holds the factory release and is good.
            s = s.withSlot(booted.name(), new EngineState.SlotRecord(parts.systemRelease(), null, "good"))
                    .withSlot(booted.other().name(), new EngineState.SlotRecord(null, null, "empty"));
            store.save(s);
        } else if (s.state().inFlight()) {
            s = s.withReentry();
            store.save(s);
            if (s.reentries() > MAX_REENTRIES) {
                log.error("state {} re-entered {} times after restarts; giving up on it", s.state(), s.reentries());
            }
        }
        this.state = s;
        this.progress = readProgress();
    }

    private Instant now() {
        return parts.clock().instant();
    }

    public EngineState state() {
        return state;
    }

    public Path dir() {
        return dir;
    }

    public Parts parts() {
        return parts;
    }

    /** Latest download progress (also readable from another process through progress.json). */
    public Progress progress() {
        return progress;
    }

    /**
     * Accepts an order. From a settled state it becomes PENDING at once (persisted); while a
     * download runs it replaces it at the next chunk boundary.
     */
    public synchronized void order(EngineState.Order o) throws IOException, InstallException {
        UpdateState s = state.state();
        if (s == UpdateState.PENDING || s == UpdateState.DOWNLOADING) {
            replacement = o;
            return;
        }
        if (!UpdateTransitions.allowed(s, UpdateEvent.ORDER)) {
            throw new InstallException("BUSY", "the agent is " + s.reported() + "; a new install can start once it settles");
        }
        Files.deleteIfExists(dir.resolve(Progress.FILE));
        progress = null;
        transition(UpdateEvent.ORDER, st -> st.withOrder(o).withTarget(null).withError(null), null);
    }

    /** Drives the machine until it settles (VERIFIED, FAILED, IDLE ...). Returns the final state. */
    public EngineState run() throws InterruptedException {
        while (true) {
            EngineState s = state;
            if (s.state().inFlight() && s.reentries() > MAX_REENTRIES) {
                fail("LOOP_GUARD", "state " + s.state().reported() + " re-entered " + s.reentries() + " times after restarts");
                continue;
            }
            try {
                switch (s.state()) {
                    case PENDING -> pending();
                    case DOWNLOADING -> downloading();
                    default -> {
                        return state;
                    }
                }
            } catch (InstallException e) {
                fail(e.code(), e.getMessage());
            } catch (IOException e) {
                // The state directory itself failed (disk full, read-only): the last persisted state stays as it was.
                InstallException ie = Installer.ioFailure(null, e);
                log.error("cannot persist state in {}: {}", dir, e.toString());
                state = state.withState(UpdateState.FAILED, now()).withError(new EngineState.ErrorRecord(ie.code(),
                        "state directory " + dir + ": " + e.getMessage(), now()));
                return state;
            } catch (Installer.Cancelled c) {
                cancelToReplacement();
            }
        }
    }

    private void pending() throws IOException, InstallException, InterruptedException, Installer.Cancelled {
        EngineState.Order o = state.order();
        Slot target = inactive();
        Installer inst = installer();
        try (BundleSource src = BundleSource.open(o.source(), parts.http())) {
            Installer.Header h = inst.fetchHeader(src, o.manifestDigest(), target);
            if (replacement != null) throw new Installer.Cancelled();
            var m = h.manifest().manifest();
            int chunks = m.images().stream().mapToInt(i -> i.chunkCount()).sum();
            EngineState.Target t = new EngineState.Target(m.release(), h.manifest().manifestDigest(), m.securityVersion(),
                    target.name(), h.identity().size(), h.identity().etag(), m.payloadSize(), chunks);
            StateStore.writeAtomically(dir.resolve(HEADER_FILE), h.headerBytes());
            transition(UpdateEvent.SUCCESS, st -> st.withTarget(t)
                    .withSlot(target.name(), new EngineState.SlotRecord(null, null, "writing")), Map.of("slot", target.name()));
        }
    }

    private void downloading() throws IOException, InstallException, InterruptedException, Installer.Cancelled {
        EngineState.Target t = state.target();
        Slot target = Slot.parse(t.slot());
        if (target == bootControlBooted()) {
            throw new InstallException("SLOT_IS_RUNNING", "slot " + target + " is the running system; refusing to write it");
        }
        // A/B order: the slot is unbootable before its first byte changes, and stays so until activation.
        try {
            parts.boot().markBad(target);
        } catch (BootControlException e) {
            throw new InstallException("BOOT_CONTROL", "cannot mark slot " + target + " bad before writing it: " + e.getMessage());
        }
        Installer inst = installer();
        byte[] head;
        try {
            head = Files.readAllBytes(dir.resolve(HEADER_FILE));
        } catch (NoSuchFileException e) {
            throw new InstallException("STATE_LOST", "header of the download in progress is missing from " + dir + "; order the install again");
        }
        Installer.Header h = inst.verifyHeader(head, new BundleSource.Identity(t.bundleSize(), t.etag()),
                t.manifestDigest(), target);
        try (BundleSource src = BundleSource.open(state.order().source(), parts.http())) {
            inst.download(src, h, target, t, this::onProgress, () -> replacement != null);
        }
        transition(UpdateEvent.SUCCESS, st -> st.withSlot(target.name(),
                new EngineState.SlotRecord(t.release(), t.manifestDigest(), "verified")), Map.of("slot", target.name()));
        // progress.json stays: it tells status how many bytes this install fetched.
        DownloadJournal.delete(dir);
    }

    private Slot bootControlBooted() throws InstallException {
        try {
            return parts.boot().booted();
        } catch (BootControlException e) {
            throw new InstallException("BOOT_CONTROL", e.getMessage());
        }
    }

    private Slot inactive() throws InstallException {
        return bootControlBooted().other();
    }

    private void onProgress(Progress p) {
        progress = p;
        try {
            StateStore.writeAtomically(dir.resolve(Progress.FILE), StateStore.mapper().writeValueAsBytes(p));
        } catch (IOException e) {
            log.warn("progress not written: {}", e.toString());
        }
    }

    private Progress readProgress() {
        try {
            return StateStore.mapper().readValue(Files.readAllBytes(dir.resolve(Progress.FILE)), Progress.class);
        } catch (IOException e) {
            return null;
        }
    }

    private Installer installer() {
        long floor = state.securityFloor();
        VerifyOptions opts = VerifyOptions.of(parts.keyring()).withVariant(parts.variant()).withMinSecurityVersion(floor)
                .withTrustedNow(parts.clockTrusted() ? () -> Optional.of(now()) : Optional::empty);
        return new Installer(new BundleVerifier(opts), parts.storage(), dir, parts.retry(), parts.sleeper(), random, parts.hook());
    }

    private synchronized void cancelToReplacement() throws InterruptedException {
        EngineState.Order next = replacement;
        replacement = null;
        try {
            transition(UpdateEvent.CANCEL, st -> st, Map.of("reason", "replaced by a newer order"));
            DownloadJournal.delete(dir);
            Files.deleteIfExists(dir.resolve(HEADER_FILE));
            if (next != null) transition(UpdateEvent.ORDER, st -> st.withOrder(next).withTarget(null).withError(null), null);
        } catch (IOException e) {
            log.error("cannot persist the cancellation: {}", e.toString());
        }
    }

    private void fail(String code, String message) {
        log.warn("install failed: {}: {}", code, message);
        try {
            EngineState.ErrorRecord err = new EngineState.ErrorRecord(code, message, now());
            UpdateState s = state.state();
            UpdateEvent ev = UpdateTransitions.allowed(s, UpdateEvent.FAILURE) ? UpdateEvent.FAILURE : null;
            if (ev == null) {
                state = state.withError(err);
                store.save(state);
                return;
            }
            transition(ev, st -> st.withError(err), Map.of("message", message), code);
        } catch (IOException e) {
            state = state.withState(UpdateState.FAILED, now()).withError(new EngineState.ErrorRecord(code, message, now()));
            log.error("cannot persist failure {}: {}", code, e.toString());
        }
    }

    interface Change {
        EngineState apply(EngineState s);
    }

    private void transition(UpdateEvent event, Change change, Map<String, String> detail) throws IOException {
        transition(event, change, detail, null);
    }

    /** Persists the transition, then reports it. Side effects of the new state come after this returns. */
    private synchronized void transition(UpdateEvent event, Change change, Map<String, String> detail, String reason) throws IOException {
        UpdateState next = UpdateTransitions.next(state.state(), event);
        EngineState s = change.apply(state).withState(next, now());
        store.save(s);
        state = s;
        parts.hook().at("persisted:" + next);
        String release = s.target() != null ? s.target().release() : s.order() != null ? s.order().release() : null;
        Map<String, String> d = new LinkedHashMap<>();
        if (detail != null) d.putAll(detail);
        if (s.order() != null && s.order().rev() > 0) d.put("rev", Long.toString(s.order().rev()));
        if (s.order() != null && s.order().rolloutId() != null) d.put("rolloutId", s.order().rolloutId());
        try {
            parts.events().emit(EventSink.Draft.transition(next.reported(), release, reason, d));
        } catch (IOException e) {
            log.error("event for {} not recorded: {}", next, e.toString());
        }
    }
}
