package rsuota.agent.update;

import rsuota.wire.SlotState;
import rsuota.agent.AgentException;
import rsuota.agent.AgentError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.download.HttpBundleSource;
import rsuota.agent.download.RetryPolicy;
import rsuota.agent.download.Sleeper;
import rsuota.agent.download.SlotFiller;
import rsuota.agent.report.EventSink;
import rsuota.hal.boot.BootControl;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.Slot;
import rsuota.hal.storage.SlotStorage;
import rsuota.hal.power.Reboot;
import rsuota.agent.activation.WindowSchedule;
import rsuota.agent.activation.Inhibitors;
import rsuota.agent.health.HealthConfig;
import rsuota.agent.health.ProbeResult;

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
                        String variant, boolean clockTrusted, boolean strictSignatures, String systemRelease, RetryPolicy retry,
                        HttpBundleSource.Options http, EventSink events, Clock clock, Sleeper sleeper, CrashHook hook,
                        Reboot reboot, WindowSchedule schedule, Inhibitors inhibitors, HealthConfig health, int bootTries,
                        java.time.Duration rollbackBudget) {}

    private final Path dir;
    private final Parts parts;
    private final StateStore store;
    private final BootSlots slots;
    private final ActivationGate gate;
    private final DownloadSteps downloads;
    private final TrialBoot trial;
    private final EngineEvents events;
    private final CommitIndexer indexer;
    private volatile EngineState state;
    private volatile EngineState.Order replacement;
    /** Why the download in flight is to stop at its next chunk ({@link #requestCancel}), or null. */
    private volatile String cancelRequested;
    private volatile String waitingFor;

    public UpdateEngine(Path stateDir, Parts parts) throws IOException, BootControlException {
        this.dir = stateDir;
        this.parts = parts;
        this.store = new StateStore(stateDir);
        this.events = new EngineEvents(parts.events());
        Files.createDirectories(stateDir);
        EngineState s = store.load(now());
        Slot booted = parts.boot().booted();
        if (s.slots().isEmpty()) {
            // First start on this box: the running slot holds the factory release and is good.
            EngineState loaded = s;
            s = s.withSlot(booted.name(), new EngineState.SlotRecord(parts.systemRelease(), null, SlotState.GOOD.wire()))
                    .withSlot(booted.other().name(), new EngineState.SlotRecord(null, null, SlotState.EMPTY.wire()));
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
        this.slots = new BootSlots(parts.boot());
        this.gate = new ActivationGate(parts.schedule(), parts.inhibitors());
        this.downloads = new DownloadSteps(this, parts, stateDir, slots);
        this.trial = new TrialBoot(this, parts, slots, events);
        this.indexer = new CommitIndexer(stateDir, parts.storage());
        trial.refreshGoodSlot(booted);
    }

    /** What the last download in this process did: where its bytes came from (tests, diagnostics). */
    rsuota.agent.download.FillReport lastFill() {
        return downloads.lastFill();
    }

    /** Indexes the slot of a release just committed, in the background (the next install reuses its chunks). */
    CommitIndexer indexer() {
        return indexer;
    }

    /** Whether this engine asked for a reboot (the caller stops; the box restarts). */
    public boolean rebootRequested() {
        return trial.rebootRequested();
    }

    /** What activation waits for (window, inhibitors), or null. */
    public String waitingFor() {
        return waitingFor;
    }

    /** Results of the last round of health probes (trial commit or rollback check). */
    public java.util.List<ProbeResult> lastProbes() {
        return trial.lastProbes();
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
        return downloads.progress();
    }

    /** Called on every durable chunk (the daemon uses it to show the watchdog the loop is alive). */
    public void setProgressListener(java.util.function.Consumer<Progress> l) {
        downloads.setProgressListener(l);
    }

    /** Whether a newer order waits to replace the download in flight (polled between chunks). */
    boolean replacementWaiting() {
        return replacement != null || cancelRequested != null;
    }

    /**
     * Asks the download in flight (PENDING, DOWNLOADING) to stop at its next chunk; the thread in
     * {@link #run} persists the cancellation (back to IDLE). For a caller beside a running engine
     * (the daemon's control socket); one that holds the engine alone calls {@link #cancel}.
     */
    public void requestCancel(String reason) {
        cancelRequested = reason;
    }

    /**
     * Cancels now, for a caller that holds the engine alone (nothing in {@link #run}): an install
     * (PENDING, DOWNLOADING) goes back to IDLE, its journal dropped, the half-written slot stays
     * marked bad; an activation waiting for its window is called off (back to VERIFIED). Anything
     * else is NOTHING_TO_CANCEL. Returns what it did.
     */
    public synchronized String cancel(String reason) throws IOException, AgentException {
        UpdateState s = state.state();
        switch (s) {
            case PENDING, DOWNLOADING -> {
                String what = state.target() != null ? "release " + state.target().release() : state.order().source();
                transition(UpdateEvent.CANCEL, st -> st, Map.of("reason", reason));
                downloads.discard();
                return "cancelled: the install of " + what + " stopped; the unit keeps running its current release";
            }
            case AWAITING_WINDOW -> {
                EngineState.Order o = state.order();
                transition(UpdateEvent.CANCEL, st -> st.withActivation(null).withOrder(o == null ? null : downloadOnly(o)), Map.of("reason", reason));
                return "cancelled: the activation of release " + state.target().release() + " is called off; it stays verified on slot "
                        + state.target().slot();
            }
            default -> throw new AgentException(AgentError.NOTHING_TO_CANCEL, "the agent is " + s.reported()
                    + "; nothing is downloading or waiting for its window");
        }
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
        cancelRequested = null;
        downloads.clearProgress();
        // A new order starts a new activation: the last one's record (committed, rolled back) must not
        // read as "activation already ordered" once this release is verified.
        transition(UpdateEvent.ORDER, st -> st.withOrder(o).withTarget(null).withError(null).withActivation(null), null);
    }

    /**
     * Orders activation of the verified release: inside the device's windows narrowed by
     * {@code window}/{@code activateAfter}, or as soon as no inhibitor holds when {@code now}.
     */
    public synchronized void activate(String window, Instant activateAfter, boolean now) throws IOException, AgentException {
        ActivationGate.checkWindow(window);
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
                        have.rolloutId(), have.window(), have.activateAfter(), o.bandwidthCap())));
                return "rev " + o.rev() + " taken while " + s.reported() + " (too late to change the activation)";
            }
        }
    }

    private static EngineState.Order downloadOnly(EngineState.Order o) {
        return new EngineState.Order(o.source(), o.release(), o.manifestDigest(), o.rev(), true, o.rolloutId(), o.window(), o.activateAfter(),
                o.bandwidthCap());
    }

    /**
     * A commanded rollback (controller or technician). From a committed or committing release it
     * returns to the other slot when that holds the previous good release; otherwise it throws
     * {@code NO_PREVIOUS_SLOT}, and the caller reinstalls the previous release's bundle instead.
     */
    public synchronized void rollback(String reason) throws IOException, AgentException {
        trial.order(reason);
    }

    /** Drives the machine until it settles or waits (window, health window, reboot). Returns the state. */
    public EngineState run() throws InterruptedException {
        while (true) {
            if (trial.rebootRequested()) return state;
            EngineState s = state;
            if (s.state() == UpdateState.COMMITTING && s.reentries() > MAX_COMMIT_RESTARTS) {
                try {
                    trial.giveUpCommit(s);
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
                        downloads.pending();
                        yield true;
                    }
                    case DOWNLOADING -> {
                        downloads.downloading();
                        yield true;
                    }
                    case VERIFIED -> verified();
                    case AWAITING_WINDOW -> awaitingWindow();
                    case ACTIVATING -> trial.activating();
                    case COMMITTING -> trial.committing();
                    case ROLLING_BACK -> trial.rollingBack();
                    default -> false;
                };
                if (!progressed) {
                    cancelRequested = null; // asked for too late: the download had already finished
                    return state;
                }
            } catch (AgentException e) {
                fail(e.wireCode(), e.detail());
            } catch (IOException e) {
                // The state directory itself failed (disk full, read-only): the last persisted state stays as it was.
                AgentException ie = AgentException.io(null, e);
                log.error("cannot persist state in {}: {}", dir, e.toString());
                state = state.withState(UpdateState.FAILED, now()).withError(new EngineState.ErrorRecord(ie.wireCode(),
                        "state directory " + dir + ": " + e.getMessage(), now()));
                return state;
            } catch (SlotFiller.Cancelled c) {
                cancelToReplacement();
            }
        }
    }

    /** A verified release ordered for activation moves on to wait for its window. */
    private boolean verified() throws IOException {
        EngineState.Order o = state.order();
        if (o == null || o.downloadOnly() || state.activation() != null) return false;
        transition(UpdateEvent.ACTIVATE, st -> st.withActivation(EngineState.Activation.ordered(o.window(), o.activateAfter(), false)),
                o.window() == null ? null : Map.of("window", o.window()));
        return true;
    }

    private boolean awaitingWindow() throws IOException, AgentException {
        EngineState.Activation a = state.activation();
        waitingFor = gate.waitingFor(a, now());
        if (waitingFor != null) return false;
        Slot booted = slots.booted();
        transition(UpdateEvent.WINDOW_OPEN, st -> st.withActivation(a.withPrevious(booted.name())), Map.of("slot", state.target().slot()));
        return true;
    }

    private synchronized void cancelToReplacement() throws InterruptedException {
        EngineState.Order next = replacement;
        replacement = null;
        String why = cancelRequested;
        cancelRequested = null;
        try {
            transition(UpdateEvent.CANCEL, st -> st, Map.of("reason", next == null && why != null ? why : "replaced by a newer order"));
            downloads.discard();
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
    void amend(EngineState next) throws IOException {
        store.amend(state, next);
        state = next;
    }

    interface Change {
        EngineState apply(EngineState s);
    }

    void transition(UpdateEvent event, Change change, Map<String, String> detail) throws IOException {
        transition(event, change, detail, null);
    }

    /** Persists the transition, then reports it. Side effects of the new state come after this returns. */
    synchronized void transition(UpdateEvent event, Change change, Map<String, String> detail, String reason) throws IOException {
        UpdateState next = UpdateTransitions.next(state.state(), event);
        EngineState s = change.apply(state).withState(next, now());
        store.transition(state, event, s);
        state = s;
        parts.hook().at("persisted:" + next);
        events.transition(s, detail, reason);
    }
}
