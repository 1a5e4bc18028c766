package rsuota.agent.update;

import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.hal.storage.DurableFiles;
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
import rsuota.hal.power.Reboot;
import rsuota.agent.activation.InvalidWindowException;
import rsuota.agent.activation.MaintenanceWindow;
import rsuota.agent.activation.WindowSchedule;
import rsuota.agent.activation.Inhibitors;
import rsuota.agent.health.HealthConfig;
import rsuota.agent.health.HealthMonitor;
import rsuota.agent.health.ProbeResult;
import rsuota.agent.health.Verdict;

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
    /**
     * Agent restarts tolerated during a commit window: an agent that keeps crashing on the new
     * release is itself a failed health check, and waiting would leave the box on the trial slot.
     */
    static final int MAX_COMMIT_RESTARTS = 3;
    static final String HEADER_FILE = "header.bin";

    /**
     * Everything the engine needs besides its directory.
     *
     * @param schedule       the device's maintenance windows
     * @param inhibitors     what may hold activation (door, technician lock, battery)
     * @param health         probes and commit window for the trial and for a rollback's verification
     * @param bootTries      boot attempts for a trial slot
     * @param rollbackBudget from rollback decision to healthy on the old slot; past it an alert is raised
     */
    public record Parts(BootControl boot, SlotStorage storage, java.util.List<java.security.cert.X509Certificate> keyring,
                        String variant, boolean clockTrusted, String systemRelease, RetryPolicy retry,
                        HttpBundleSource.Options http, EventSink events, Clock clock, Sleeper sleeper, CrashHook hook,
                        Reboot reboot, WindowSchedule schedule, Inhibitors inhibitors, HealthConfig health, int bootTries,
                        java.time.Duration rollbackBudget) {}

    private final Path dir;
    private final Parts parts;
    private final StateStore store;
    private final RandomGenerator random = new java.util.SplittableRandom();
    private volatile EngineState state;
    private volatile EngineState.Order replacement;
    private volatile Progress progress;
    /** Set once this process asked for a reboot: nothing more happens until the box restarts. */
    private volatile boolean rebootRequested;
    private HealthMonitor monitor;
    private volatile String waitingFor;
    private volatile java.util.List<ProbeResult> lastProbes = java.util.List.of();

    public UpdateEngine(Path stateDir, Parts parts) throws IOException, BootControlException {
        this.dir = stateDir;
        this.parts = parts;
        this.store = new StateStore(stateDir);
        Files.createDirectories(stateDir);
        EngineState s = store.load(now());
        Slot booted = parts.boot().booted();
        if (s.slots().isEmpty()) {
            // First start on this box: the running slot holds the factory release and is good.
            EngineState loaded = s;
            s = s.withSlot(booted.name(), new EngineState.SlotRecord(parts.systemRelease(), null, "good"))
                    .withSlot(booted.other().name(), new EngineState.SlotRecord(null, null, "empty"));
            store.amend(loaded, s);
        } else if (s.state().inFlight()) {
            EngineState loaded = s;
            s = s.withReentry();
            store.amend(loaded, s);
            if (s.reentries() > MAX_REENTRIES) {
                log.error("state {} re-entered {} times after restarts; giving up on it", s.state(), s.reentries());
            }
        }
        this.state = s;
        this.progress = readProgress();
        refreshGoodSlot(booted);
    }

    /**
     * The bootloader spends a try on every boot, also of a committed slot (RAUC's schemes do), so
     * a running slot that the agent committed earlier is marked good again at each start. Not
     * during a trial or a rollback: there the tries are the safety net.
     */
    private void refreshGoodSlot(Slot booted) {
        UpdateState st = state.state();
        if (st == UpdateState.ACTIVATING || st == UpdateState.COMMITTING || st == UpdateState.ROLLING_BACK) return;
        if (!"good".equals(state.slot(booted.name()).status())) return;
        try {
            parts.boot().markGood(booted);
        } catch (BootControlException e) {
            log.error("cannot refresh boot tries of the running slot {}: {}", booted, e.getMessage());
        }
    }

    /** Whether this engine asked for a reboot (the caller stops; the box restarts). */
    public boolean rebootRequested() {
        return rebootRequested;
    }

    /** What activation waits for (window, inhibitors), or null. */
    public String waitingFor() {
        return waitingFor;
    }

    /** Results of the last round of health probes (trial commit or rollback check). */
    public java.util.List<ProbeResult> lastProbes() {
        return lastProbes;
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
    public synchronized void order(EngineState.Order o) throws IOException, AgentException {
        UpdateState s = state.state();
        if (s == UpdateState.PENDING || s == UpdateState.DOWNLOADING) {
            replacement = o;
            return;
        }
        if (!UpdateTransitions.allowed(s, UpdateEvent.ORDER)) {
            throw new AgentException(AgentError.BUSY, "the agent is " + s.reported() + "; a new install can start once it settles");
        }
        Files.deleteIfExists(dir.resolve(Progress.FILE));
        progress = null;
        // A new order starts a new activation: the last one's record (committed, rolled back) must not
        // read as "activation already ordered" once this release is verified.
        transition(UpdateEvent.ORDER, st -> st.withOrder(o).withTarget(null).withError(null).withActivation(null), null);
    }

    /**
     * Orders activation of the verified release: inside the device's windows narrowed by
     * {@code window}/{@code activateAfter}, or as soon as no inhibitor holds when {@code now}.
     */
    public synchronized void activate(String window, Instant activateAfter, boolean now) throws IOException, AgentException {
        if (window != null) {
            try {
                MaintenanceWindow.parse(window);
            } catch (InvalidWindowException e) {
                throw new AgentException(AgentError.BAD_WINDOW, e.getMessage());
            }
        }
        UpdateState s = state.state();
        if (s == UpdateState.AWAITING_WINDOW) {
            // a new activation order replaces the conditions of the one waiting
            EngineState.Activation a = EngineState.Activation.ordered(window, activateAfter, now);
            amend(state.withActivation(a));
            return;
        }
        if (s != UpdateState.VERIFIED) {
            throw new AgentException(AgentError.NOTHING_TO_ACTIVATE, "the agent is " + s.reported()
                    + "; activation needs a verified release on the inactive slot (install --download-only first)");
        }
        transition(UpdateEvent.ACTIVATE, st -> st.withActivation(EngineState.Activation.ordered(window, activateAfter, now)),
                window == null ? null : Map.of("window", window));
    }

    /**
     * Holds activation of the order in flight (a paused rollout turns its orders download-only):
     * a download continues and stops at VERIFIED; an activation waiting for its window is called
     * off. Too late once the trial boot is set: that one finishes its commit or rolls back.
     * Returns whether anything was held.
     */
    public synchronized boolean holdActivation(String reason) throws IOException {
        UpdateState s = state.state();
        EngineState.Order o = state.order();
        if (o == null) return false;
        if (s == UpdateState.AWAITING_WINDOW) {
            transition(UpdateEvent.CANCEL, st -> st.withActivation(null).withOrder(downloadOnly(o)), Map.of("reason", "activation held: " + reason));
            return true;
        }
        if ((s == UpdateState.PENDING || s == UpdateState.DOWNLOADING || s == UpdateState.VERIFIED) && !o.downloadOnly()
                && state.activation() == null) {
            amend(state.withOrder(downloadOnly(o)));
            return true;
        }
        return false;
    }

    /**
     * A newer desired state for the bundle this engine already works on (the controller paused,
     * resumed, or re-sent it): its rev, download-only flag and window replace the order's without
     * restarting anything, so the header is never fetched twice for one target and the reports
     * carry the rev the controller expects. While downloading it only changes what happens at
     * VERIFIED; at VERIFIED an activation starts, waiting for a window a download-only one is
     * called off. Once the trial boot is set (activating, committing) or done, only the rev is
     * taken. Returns what it did, for the log.
     */
    public synchronized String adopt(EngineState.Order o) throws IOException, AgentException {
        UpdateState s = state.state();
        EngineState.Order have = state.order();
        if (have == null) return "no order in flight: rev " + o.rev() + " ignored";
        if (o.rev() <= have.rev()) return "rev " + o.rev() + " is not newer than " + have.rev() + ": ignored";
        switch (s) {
            case PENDING, DOWNLOADING -> {
                amend(state.withOrder(o));
                return (o.downloadOnly() ? "download-only" : "activation") + " order rev " + o.rev() + " adopted while " + s.reported();
            }
            case VERIFIED -> {
                if (o.downloadOnly()) {
                    amend(state.withOrder(o));
                    return "rev " + o.rev() + " adopted: stays verified";
                }
                transition(UpdateEvent.ACTIVATE, st -> st.withOrder(o).withActivation(EngineState.Activation.ordered(o.window(), o.activateAfter(), false)),
                        o.window() == null ? null : Map.of("window", o.window()));
                return "rev " + o.rev() + " activates the verified release";
            }
            case AWAITING_WINDOW -> {
                if (o.downloadOnly()) {
                    transition(UpdateEvent.CANCEL, st -> st.withActivation(null).withOrder(o), Map.of("reason", "activation held by rev " + o.rev()));
                    return "rev " + o.rev() + " holds the activation waiting for its window";
                }
                amend(state.withOrder(o).withActivation(EngineState.Activation.ordered(o.window(), o.activateAfter(), false)));
                return "rev " + o.rev() + " replaces the activation's conditions";
            }
            default -> {
                amend(state.withOrder(new EngineState.Order(have.source(), have.release(), have.manifestDigest(), o.rev(), have.downloadOnly(),
                        have.rolloutId(), have.window(), have.activateAfter())));
                return "rev " + o.rev() + " taken while " + s.reported() + " (too late to change the activation)";
            }
        }
    }

    private static EngineState.Order downloadOnly(EngineState.Order o) {
        return new EngineState.Order(o.source(), o.release(), o.manifestDigest(), o.rev(), true, o.rolloutId(), o.window(), o.activateAfter());
    }

    /**
     * A commanded rollback (controller or technician). From a committed or committing release it
     * returns to the other slot when that holds the previous good release; otherwise it throws
     * {@code NO_PREVIOUS_SLOT}, and the caller reinstalls the previous release's bundle instead.
     */
    public synchronized void rollback(String reason) throws IOException, AgentException {
        UpdateState s = state.state();
        if (s == UpdateState.AWAITING_WINDOW || s == UpdateState.VERIFIED) {
            // The new release never booted here: the box already runs the previous one. Report the
            // rollback as done (the controller waits for it) and keep the verified slot unbootable.
            transition(UpdateEvent.ROLLBACK, st -> st.withActivation(null).withOrder(st.order() == null ? null
                    : new EngineState.Order(st.order().source(), st.order().release(), st.order().manifestDigest(), st.order().rev(),
                    true, st.order().rolloutId())), Map.of("reason", reason), "never_activated");
            return;
        }
        if (s == UpdateState.ROLLING_BACK) return; // already on its way
        if (s != UpdateState.ACTIVATED && s != UpdateState.COMMITTING) {
            throw new AgentException(AgentError.NOTHING_TO_ROLL_BACK, "the agent is " + s.reported() + "; the running release is not a new one");
        }
        Slot booted = bootControlBooted();
        Slot other = booted.other();
        EngineState.SlotRecord prev = state.slot(other.name());
        if (!"good".equals(prev.status())) {
            throw new AgentException(AgentError.NO_PREVIOUS_SLOT, "slot " + other + " holds no good release (" + prev.status()
                    + "); reinstall the previous release's bundle");
        }
        EngineState.Activation a = (state.activation() == null ? EngineState.Activation.ordered(null, null, false) : state.activation())
                .withPrevious(other.name()).withRollback(now(), reason, true);
        transition(UpdateEvent.ROLLBACK, st -> st.withActivation(a), Map.of("reason", reason), "commanded");
    }

    /** Drives the machine until it settles or waits (window, health window, reboot). Returns the state. */
    public EngineState run() throws InterruptedException {
        while (true) {
            if (rebootRequested) return state;
            EngineState s = state;
            if (s.state() == UpdateState.COMMITTING && s.reentries() > MAX_COMMIT_RESTARTS) {
                String why = "the agent restarted " + s.reentries() + " times during the commit window";
                try {
                    EngineState.Activation a = s.activation();
                    transition(UpdateEvent.ROLLBACK, st -> st.withActivation(a.withRollback(now(), why, false))
                            .withError(new EngineState.ErrorRecord(AgentError.HEALTH_FAILED.wire(), why, now())), Map.of("reason", why), "health_failed");
                } catch (IOException e) {
                    log.error("cannot persist the rollback decision: {}", e.toString());
                    return state;
                }
                continue;
            }
            if (s.state().inFlight() && s.reentries() > MAX_REENTRIES) {
                fail(AgentError.LOOP_GUARD.wire(), "state " + s.state().reported() + " re-entered " + s.reentries() + " times after restarts");
                continue;
            }
            try {
                boolean progressed = switch (s.state()) {
                    case PENDING -> {
                        pending();
                        yield true;
                    }
                    case DOWNLOADING -> {
                        downloading();
                        yield true;
                    }
                    case VERIFIED -> verified();
                    case AWAITING_WINDOW -> awaitingWindow();
                    case ACTIVATING -> activating();
                    case COMMITTING -> committing();
                    case ROLLING_BACK -> rollingBack();
                    default -> false;
                };
                if (!progressed) return state;
            } catch (AgentException e) {
                fail(e.wireCode(), e.detail());
            } catch (IOException e) {
                // The state directory itself failed (disk full, read-only): the last persisted state stays as it was.
                AgentException ie = Installer.ioFailure(null, e);
                log.error("cannot persist state in {}: {}", dir, e.toString());
                state = state.withState(UpdateState.FAILED, now()).withError(new EngineState.ErrorRecord(ie.wireCode(),
                        "state directory " + dir + ": " + e.getMessage(), now()));
                return state;
            } catch (Installer.Cancelled c) {
                cancelToReplacement();
            }
        }
    }

    private void pending() throws IOException, AgentException, InterruptedException, Installer.Cancelled {
        EngineState.Order o = state.order();
        Slot target = inactive();
        Installer inst = installer();
        try (BundleSource src = BundleSource.open(o.source(), parts.http())) {
            Installer.Header h = inst.fetchHeader(src, o.manifestDigest(), target);
            if (replacement != null) throw new Installer.Cancelled();
            var m = h.manifest().manifest();
            int chunks = m.images().stream().mapToInt(i -> i.chunkCount()).sum();
            EngineState.Target t = new EngineState.Target(m.release(), h.manifest().manifestDigest(), m.securityVersion(),
                    target.name(), h.identity().size(), h.identity().etag(), m.payloadSize(), chunks, src.bytesFetched());
            DurableFiles.writeAtomically(dir.resolve(HEADER_FILE), h.headerBytes());
            transition(UpdateEvent.SUCCESS, st -> st.withTarget(t)
                    .withSlot(target.name(), new EngineState.SlotRecord(null, null, "writing")), Map.of("slot", target.name()));
        }
    }

    private void downloading() throws IOException, AgentException, InterruptedException, Installer.Cancelled {
        EngineState.Target t = state.target();
        Slot target = Slot.parse(t.slot());
        if (target == bootControlBooted()) {
            throw new AgentException(AgentError.SLOT_IS_RUNNING, "slot " + target + " is the running system; refusing to write it");
        }
        // A/B order: the slot is unbootable before its first byte changes, and stays so until activation.
        try {
            parts.boot().markBad(target);
        } catch (BootControlException e) {
            throw new AgentException(AgentError.BOOT_CONTROL, "cannot mark slot " + target + " bad before writing it: " + e.getMessage());
        }
        Installer inst = installer();
        byte[] head;
        try {
            head = Files.readAllBytes(dir.resolve(HEADER_FILE));
        } catch (NoSuchFileException e) {
            throw new AgentException(AgentError.STATE_LOST, "header of the download in progress is missing from " + dir + "; order the install again");
        }
        Installer.Header h = inst.verifyHeader(head, new BundleSource.Identity(t.bundleSize(), t.etag()),
                t.manifestDigest(), target);
        // bytes fetched accumulate over restarts of the same download (progress.json) and include the header
        Progress before = progress;
        long base = before != null && t.release().equals(before.release()) && before.bytesFetched() > 0 ? before.bytesFetched() : t.headerBytes();
        try (BundleSource src = BundleSource.open(state.order().source(), parts.http())) {
            inst.download(src, h, target, t, p -> onProgress(new Progress(p.release(), base + p.bytesFetched(), p.chunksVerified(),
                    p.chunksTotal(), p.payloadBytes())), () -> replacement != null);
        }
        transition(UpdateEvent.SUCCESS, st -> st.withSlot(target.name(),
                new EngineState.SlotRecord(t.release(), t.manifestDigest(), "verified")), Map.of("slot", target.name()));
        // progress.json stays: it tells status how many bytes this install fetched.
        DownloadJournal.delete(dir);
    }

    /** A verified release ordered for activation moves on to wait for its window. */
    private boolean verified() throws IOException {
        EngineState.Order o = state.order();
        if (o == null || o.downloadOnly() || state.activation() != null) return false;
        transition(UpdateEvent.ACTIVATE, st -> st.withActivation(EngineState.Activation.ordered(o.window(), o.activateAfter(), false)),
                o.window() == null ? null : Map.of("window", o.window()));
        return true;
    }

    WindowSchedule scheduleFor(EngineState.Activation a) {
        WindowSchedule base = a.now() ? WindowSchedule.anyTime() : parts.schedule();
        MaintenanceWindow w = null;
        if (a.window() != null) {
            try {
                w = MaintenanceWindow.parse(a.window());
            } catch (InvalidWindowException e) {
                log.error("stored order window '{}' no longer parses: {}", a.window(), e.getMessage());
            }
        }
        return base.narrowedBy(a.activateAfter(), w);
    }

    private boolean awaitingWindow() throws IOException, AgentException {
        EngineState.Activation a = state.activation();
        Instant t = now();
        WindowSchedule schedule = scheduleFor(a);
        java.util.List<String> held = parts.inhibitors().activeReasons();
        if (!schedule.isOpen(t)) {
            waitingFor = schedule.describe(t) + (held.isEmpty() ? "" : "; held by " + String.join(", ", held));
            return false;
        }
        if (!held.isEmpty()) {
            waitingFor = "held by " + String.join(", ", held);
            return false;
        }
        waitingFor = null;
        Slot booted = bootControlBooted();
        transition(UpdateEvent.WINDOW_OPEN, st -> st.withActivation(a.withPrevious(booted.name())), Map.of("slot", state.target().slot()));
        return true;
    }

    /** Sets the trial (once, remembered) and reboots; after the reboot, compares what booted with what was expected. */
    private boolean activating() throws IOException, AgentException {
        EngineState.Activation a = state.activation();
        Slot target = Slot.parse(state.target().slot());
        Slot previous = Slot.parse(a.previousSlot());
        Slot booted = bootControlBooted();
        if (booted == target) {
            transition(UpdateEvent.BOOTED_TRIAL, st -> st.withActivation(a.withCommitSince(now()))
                    .withSlot(target.name(), new EngineState.SlotRecord(st.target().release(), st.target().manifestDigest(), "trial")), null);
            monitor = null;
            return true;
        }
        if (a.trialSince() != null) {
            int left = bootTries(target);
            if (left == 0) {
                // The trial was set and its tries are spent, yet the old slot runs: the new one never
                // came up (hang ended by the watchdog, kernel panic): the bootloader fell back.
                transition(UpdateEvent.BOOTED_FALLBACK, st -> st.withSlot(target.name(),
                        new EngineState.SlotRecord(st.target().release(), st.target().manifestDigest(), "bad"))
                        .withError(new EngineState.ErrorRecord(AgentError.BOOT_FAILED.wire(), "slot " + target + " did not boot within "
                                + parts.bootTries() + " tries; running slot " + booted, now())),
                        Map.of("slot", target.name()), "boot_failed");
                markBadQuietly(target);
                return true;
            }
            // trial set but the reboot did not happen (the agent restarted first): reboot now
            requestReboot("activate release " + state.target().release() + " on slot " + target);
            return false;
        }
        try {
            parts.boot().setTrial(target, parts.bootTries());
        } catch (BootControlException e) {
            throw new AgentException(AgentError.BOOT_CONTROL, "cannot set slot " + target + " for a trial boot: " + e.getMessage());
        }
        amend(state.withActivation(a.withTrialSince(now())));
        parts.hook().at("trial-set");
        if (booted != previous) log.warn("activation expected slot {} to run, found {}", previous, booted);
        requestReboot("activate release " + state.target().release() + " on slot " + target);
        return false;
    }

    private boolean committing() throws IOException, AgentException {
        EngineState.Activation a = state.activation();
        Slot target = Slot.parse(state.target().slot());
        Slot booted = bootControlBooted();
        if (booted != target) {
            // the watchdog reset the box during the commit window and the bootloader fell back
            transition(UpdateEvent.BOOTED_FALLBACK, st -> st.withSlot(target.name(),
                    new EngineState.SlotRecord(st.target().release(), st.target().manifestDigest(), "bad"))
                    .withError(new EngineState.ErrorRecord(AgentError.BOOT_FAILED.wire(), "slot " + target + " stopped booting during the commit window", now())),
                    Map.of("slot", target.name()), "boot_failed");
            markBadQuietly(target);
            return true;
        }
        if (monitor == null) monitor = new HealthMonitor(parts.health(), a.commitSince());
        java.util.List<ProbeResult> results = monitor.checkOnce();
        lastProbes = results;
        Verdict v = monitor.observe(now(), results);
        if (v instanceof Verdict.Healthy) {
            EngineState.Target t = state.target();
            transition(UpdateEvent.SUCCESS, st -> st.withFloor(Math.max(st.securityFloor(), t.securityVersion()))
                    .withSlot(target.name(), new EngineState.SlotRecord(t.release(), t.manifestDigest(), "good")),
                    Map.of("slot", target.name()));
            try {
                parts.boot().markGood(target);
            } catch (BootControlException e) {
                // the next start marks the running good slot again (refreshGoodSlot)
                log.error("commit: cannot mark slot {} good yet: {}", target, e.getMessage());
            }
            monitor = null;
            return true;
        }
        if (v instanceof Verdict.Unhealthy u) {
            monitor = null;
            transition(UpdateEvent.ROLLBACK, st -> st.withActivation(a.withRollback(now(), u.reason(), false))
                    .withError(new EngineState.ErrorRecord(AgentError.HEALTH_FAILED.wire(), u.reason(), now())), Map.of("reason", u.reason()), "health_failed");
            return true;
        }
        return false; // keep watching: the caller comes back after the check interval
    }

    /**
     * Back to the previous slot: make the failed slot unbootable (local) or set the previous slot
     * for a trial (commanded), reboot once, then verify the previous slot is healthy. Never loops
     * between slots: one reboot, then rolled_back or needs_investigation.
     */
    private boolean rollingBack() throws IOException, AgentException {
        EngineState.Activation a = state.activation();
        Slot previous = Slot.parse(a.previousSlot());
        Slot failed = previous.other();
        Slot booted = bootControlBooted();
        checkRollbackBudget(a);
        if (booted == previous) {
            EngineState.Activation cur = state.activation();
            if (cur.checkSince() == null) {
                amend(state.withActivation(cur.withCheckSince(now())));
                monitor = null;
            }
            if (monitor == null) monitor = new HealthMonitor(parts.health(), state.activation().checkSince());
            java.util.List<ProbeResult> results = monitor.checkOnce();
            lastProbes = results;
            Verdict v = monitor.observe(now(), results);
            if (v instanceof Verdict.Passing) return false;
            monitor = null;
            if (v instanceof Verdict.Healthy) {
                String rel = state.slot(failed.name()).release();
                String dig = state.slot(failed.name()).manifestDigest();
                transition(UpdateEvent.SUCCESS, st -> st.withSlot(failed.name(), new EngineState.SlotRecord(rel, dig, "bad")),
                        Map.of("slot", previous.name(), "message", String.valueOf(a.rollbackReason())), a.commanded() ? "commanded" : "health_failed");
                markBadQuietly(failed);
                try {
                    parts.boot().markGood(previous);
                } catch (BootControlException e) {
                    log.error("cannot mark slot {} good after rollback: {}", previous, e.getMessage());
                }
            } else {
                String why = ((Verdict.Unhealthy) v).reason();
                transition(UpdateEvent.UNHEALTHY, st -> st.withError(new EngineState.ErrorRecord(AgentError.PREVIOUS_UNHEALTHY.wire(),
                        "slot " + previous + " runs but is not healthy either: " + why, now())), Map.of("reason", why), "previous_unhealthy");
            }
            return true;
        }
        if (a.rollbackReboots() >= 1) {
            // rebooted once already and the failed slot still runs: the previous one did not boot
            transition(UpdateEvent.FAILURE, st -> st.withError(new EngineState.ErrorRecord(AgentError.PREVIOUS_UNBOOTABLE.wire(),
                    "rolled back to slot " + previous + " but slot " + booted + " runs again", now())), null, "previous_unbootable");
            return true;
        }
        try {
            if (a.commanded()) {
                parts.boot().setTrial(previous, parts.bootTries());
            } else {
                parts.boot().markBad(failed);
            }
        } catch (BootControlException e) {
            throw new AgentException(AgentError.BOOT_CONTROL, "rollback: " + e.getMessage());
        }
        amend(state.withActivation(a.withRollbackReboot()));
        parts.hook().at("rollback-set");
        requestReboot("roll back to slot " + previous + ": " + a.rollbackReason());
        return false;
    }

    private void checkRollbackBudget(EngineState.Activation a) throws IOException {
        if (a.alerted() || a.rollbackSince() == null) return;
        if (now().isAfter(a.rollbackSince().plus(parts.rollbackBudget()))) {
            amend(state.withActivation(a.withAlerted()));
            try {
                parts.events().emit(new EventSink.Draft("alert", state.state().reported(), state.target() == null ? null : state.target().release(),
                        "ROLLBACK_BUDGET_EXCEEDED", Map.of("budget", parts.rollbackBudget().toString(),
                                "since", a.rollbackSince().toString(), "message", "rollback not healthy within its time budget; still trying")));
            } catch (IOException e) {
                log.error("alert not recorded: {}", e.toString());
            }
        }
    }

    private void requestReboot(String reason) throws AgentException {
        rebootRequested = true;
        try {
            parts.reboot().reboot(reason);
        } catch (IOException e) {
            rebootRequested = false;
            throw new AgentException(AgentError.REBOOT_FAILED, "cannot reboot (" + reason + "): " + e.getMessage());
        }
    }

    private int bootTries(Slot s) throws AgentException {
        try {
            return parts.boot().state().triesLeft().getOrDefault(s, 0);
        } catch (BootControlException e) {
            throw new AgentException(AgentError.BOOT_CONTROL, e.getMessage());
        }
    }

    private void markBadQuietly(Slot s) {
        try {
            parts.boot().markBad(s);
        } catch (BootControlException e) {
            log.error("cannot mark slot {} bad: {}", s, e.getMessage());
        }
    }

    private Slot bootControlBooted() throws AgentException {
        try {
            return parts.boot().booted();
        } catch (BootControlException e) {
            throw new AgentException(AgentError.BOOT_CONTROL, e.getMessage());
        }
    }

    private Slot inactive() throws AgentException {
        return bootControlBooted().other();
    }

    private volatile java.util.function.Consumer<Progress> progressListener = p -> { };

    /** Called on every durable chunk (the daemon uses it to show the watchdog the loop is alive). */
    public void setProgressListener(java.util.function.Consumer<Progress> l) {
        progressListener = l == null ? p -> { } : l;
    }

    private void onProgress(Progress p) {
        progress = p;
        progressListener.accept(p);
        try {
            // Advisory (status in another process): renamed into place but not fsync'd, so a chunk
            // costs no extra flush. After a power cut the journal, not this file, says what is done.
            Path tmp = dir.resolve("." + Progress.FILE + ".tmp");
            Files.write(tmp, StateStore.mapper().writeValueAsBytes(p));
            Files.move(tmp, dir.resolve(Progress.FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
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
            if (next != null) transition(UpdateEvent.ORDER, st -> st.withOrder(next).withTarget(null).withError(null).withActivation(null), null);
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
                amend(state.withError(err));
                return;
            }
            transition(ev, st -> st.withError(err), Map.of("message", message), code);
        } catch (IOException e) {
            state = state.withState(UpdateState.FAILED, now()).withError(new EngineState.ErrorRecord(code, message, now()));
            log.error("cannot persist failure {}: {}", code, e.toString());
        }
    }

    /**
     * Persists a change within the current state (order, activation progress, slots, last error),
     * then makes it current; {@link StateStore#amend} refuses one that changes the state, which only
     * {@link #transition} may do.
     */
    private void amend(EngineState next) throws IOException {
        store.amend(state, next);
        state = next;
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
        store.transition(state, event, s);
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
