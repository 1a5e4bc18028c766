package rsuota.agent.update;

import rsuota.wire.SlotState;
import rsuota.agent.AgentException;
import rsuota.agent.AgentError;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.health.HealthMonitor;
import rsuota.agent.health.ProbeResult;
import rsuota.agent.health.Verdict;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.Slot;

/**
 * The trial boot of a verified release and the way back: ACTIVATING sets the trial and reboots,
 * COMMITTING watches health through the commit window and marks the slot good, ROLLING_BACK
 * returns to the previous slot with one reboot and verifies it. These are the steps that touch
 * the bootloader and reboot, so each persists through {@link UpdateEngine}'s transition or amend
 * first (a power cut between the two repeats the step, which is why every step checks what booted
 * before it acts) and calls the {@code trial-set}/{@code rollback-set} hooks right after.
 */
final class TrialBoot {
    /** Logs as {@link UpdateEngine}: the logger name is in every line, and operators filter on it. */
    private static final Logger log = LoggerFactory.getLogger(UpdateEngine.class);

    private final UpdateEngine engine;
    private final UpdateEngine.Parts parts;
    private final BootSlots slots;
    private final EngineEvents events;
    private HealthMonitor monitor;
    private volatile List<ProbeResult> lastProbes = List.of();
    /** Set once this process asked for a reboot: nothing more happens until the box restarts. */
    private volatile boolean rebootRequested;

    TrialBoot(UpdateEngine engine, UpdateEngine.Parts parts, BootSlots slots, EngineEvents events) {
        this.engine = engine;
        this.parts = parts;
        this.slots = slots;
        this.events = events;
    }

    boolean rebootRequested() {
        return rebootRequested;
    }

    List<ProbeResult> lastProbes() {
        return lastProbes;
    }

    private EngineState state() {
        return engine.state();
    }

    private Instant now() {
        return parts.clock().instant();
    }

    /**
     * The bootloader spends a try on every boot, also of a committed slot (RAUC's schemes do), so
     * a running slot that the agent committed earlier is marked good again at each start. Not
     * during a trial or a rollback: there the tries are the safety net.
     */
    void refreshGoodSlot(Slot booted) {
        UpdateState st = state().state();
        if (st == UpdateState.ACTIVATING || st == UpdateState.COMMITTING || st == UpdateState.ROLLING_BACK) return;
        if (!SlotState.GOOD.is(state().slot(booted.name()).status())) return;
        try {
            parts.boot().markGood(booted);
        } catch (BootControlException e) {
            log.error("cannot refresh boot tries of the running slot {}: {}", booted, e.getMessage());
        }
    }

    /** {@link UpdateEngine#rollback}: the decision and its persisted transition; {@link #rollingBack} acts on it. */
    void order(String reason) throws IOException, AgentException {
        UpdateState s = state().state();
        if (s == UpdateState.AWAITING_WINDOW || s == UpdateState.VERIFIED) {
            // The new release never booted here: the box already runs the previous one. Report the
            // rollback as done (the controller waits for it) and keep the verified slot unbootable.
            engine.transition(UpdateEvent.ROLLBACK, st -> st.withActivation(null).withOrder(st.order() == null ? null
                    : new EngineState.Order(st.order().source(), st.order().release(), st.order().manifestDigest(), st.order().rev(),
                    true, st.order().rolloutId(), st.order().window(), st.order().activateAfter(), st.order().bandwidthCap())),
                    Map.of("reason", reason), "never_activated");
            return;
        }
        if (s == UpdateState.ROLLING_BACK) return; // already on its way
        if (s != UpdateState.ACTIVATED && s != UpdateState.COMMITTING) {
            throw new AgentException(AgentError.NOTHING_TO_ROLL_BACK, "the agent is " + s.reported() + "; the running release is not a new one");
        }
        Slot booted = slots.booted();
        Slot other = booted.other();
        EngineState.SlotRecord prev = state().slot(other.name());
        if (!SlotState.GOOD.is(prev.status())) {
            throw new AgentException(AgentError.NO_PREVIOUS_SLOT, "slot " + other + " holds no good release (" + prev.status()
                    + "); reinstall the previous release's bundle");
        }
        EngineState.Activation a = (state().activation() == null ? EngineState.Activation.ordered(null, null, false) : state().activation())
                .withPrevious(other.name()).withRollback(now(), reason, true);
        engine.transition(UpdateEvent.ROLLBACK, st -> st.withActivation(a), Map.of("reason", reason), "commanded");
    }

    /** Sets the trial (once, remembered) and reboots; after the reboot, compares what booted with what was expected. */
    boolean activating() throws IOException, AgentException {
        EngineState.Activation a = state().activation();
        Slot target = Slot.parse(state().target().slot());
        Slot previous = Slot.parse(a.previousSlot());
        Slot booted = slots.booted();
        if (booted == target) {
            engine.transition(UpdateEvent.BOOTED_TRIAL, st -> st.withActivation(a.withCommitSince(now()))
                    .withSlot(target.name(), new EngineState.SlotRecord(st.target().release(), st.target().manifestDigest(), SlotState.TRIAL.wire())), null);
            monitor = null;
            return true;
        }
        if (a.trialSince() != null) {
            int left = slots.triesLeft(target);
            if (left == 0) {
                // The trial was set and its tries are spent, yet the old slot runs: the new one never
                // came up (hang ended by the watchdog, kernel panic): the bootloader fell back.
                engine.transition(UpdateEvent.BOOTED_FALLBACK, st -> st.withSlot(target.name(),
                        new EngineState.SlotRecord(st.target().release(), st.target().manifestDigest(), SlotState.BAD.wire()))
                        .withError(new EngineState.ErrorRecord("boot_failed", "slot " + target + " did not boot within "
                                + parts.bootTries() + " tries; running slot " + booted, now())),
                        Map.of("slot", target.name()), "boot_failed");
                slots.markBadQuietly(target);
                return true;
            }
            // trial set but the reboot did not happen (the agent restarted first): reboot now
            requestReboot("activate release " + state().target().release() + " on slot " + target);
            return false;
        }
        try {
            parts.boot().setTrial(target, parts.bootTries());
        } catch (BootControlException e) {
            throw new AgentException(AgentError.BOOT_CONTROL, "cannot set slot " + target + " for a trial boot: " + e.getMessage());
        }
        // The slot reads "trial" from the moment its trial boot is set, whatever happens next (a reboot
        // here, a health window there): one word for one situation on every unit.
        engine.amend(state().withActivation(a.withTrialSince(now())).withSlot(target.name(),
                new EngineState.SlotRecord(state().target().release(), state().target().manifestDigest(), SlotState.TRIAL.wire())));
        parts.hook().at("trial-set");
        if (booted != previous) log.warn("activation expected slot {} to run, found {}", previous, booted);
        requestReboot("activate release " + state().target().release() + " on slot " + target);
        return false;
    }

    boolean committing() throws IOException, AgentException {
        EngineState.Activation a = state().activation();
        Slot target = Slot.parse(state().target().slot());
        Slot booted = slots.booted();
        if (booted != target) {
            // the watchdog reset the box during the commit window and the bootloader fell back
            engine.transition(UpdateEvent.BOOTED_FALLBACK, st -> st.withSlot(target.name(),
                    new EngineState.SlotRecord(st.target().release(), st.target().manifestDigest(), SlotState.BAD.wire()))
                    .withError(new EngineState.ErrorRecord("boot_failed", "slot " + target + " stopped booting during the commit window", now())),
                    Map.of("slot", target.name()), "boot_failed");
            slots.markBadQuietly(target);
            return true;
        }
        if (monitor == null) monitor = new HealthMonitor(parts.health(), a.commitSince());
        List<ProbeResult> results = monitor.checkOnce();
        lastProbes = results;
        Verdict v = monitor.observe(now(), results);
        if (v instanceof Verdict.Healthy) {
            EngineState.Target t = state().target();
            engine.transition(UpdateEvent.SUCCESS, st -> st.withFloor(Math.max(st.securityFloor(), t.securityVersion()))
                    .withSlot(target.name(), new EngineState.SlotRecord(t.release(), t.manifestDigest(), SlotState.GOOD.wire())),
                    Map.of("slot", target.name()));
            try {
                parts.boot().markGood(target);
            } catch (BootControlException e) {
                // the next start marks the running good slot again (refreshGoodSlot)
                log.error("commit: cannot mark slot {} good yet: {}", target, e.getMessage());
            }
            // after the commit is durable, never before: the index only saves the next install a read of the slot
            try {
                engine.indexer().start(target, t.manifestDigest());
            } catch (RuntimeException | OutOfMemoryError e) {
                log.warn("index of the committed slot {} not started (the next install builds it): {}", target, e.toString());
            }
            monitor = null;
            return true;
        }
        if (v instanceof Verdict.Unhealthy u) {
            monitor = null;
            engine.transition(UpdateEvent.ROLLBACK, st -> st.withActivation(a.withRollback(now(), u.reason(), false))
                    .withError(new EngineState.ErrorRecord("health_failed", u.reason(), now())), Map.of("reason", u.reason()), "health_failed");
            return true;
        }
        return false; // keep watching: the caller comes back after the check interval
    }

    /**
     * The agent restarted more than {@link UpdateEngine#MAX_COMMIT_RESTARTS} times during the
     * commit window: an agent that keeps crashing on the new release is itself a failed health
     * check, so the rollback is decided as for one.
     */
    void giveUpCommit(EngineState s) throws IOException {
        String why = "the agent restarted " + s.reentries() + " times during the commit window";
        EngineState.Activation a = s.activation();
        engine.transition(UpdateEvent.ROLLBACK, st -> st.withActivation(a.withRollback(now(), why, false))
                .withError(new EngineState.ErrorRecord("health_failed", why, now())), Map.of("reason", why), "health_failed");
    }

    /**
     * Back to the previous slot: make the failed slot unbootable (local) or set the previous slot
     * for a trial (commanded), reboot once, then verify the previous slot is healthy. Never loops
     * between slots: one reboot, then rolled_back or needs_investigation.
     */
    boolean rollingBack() throws IOException, AgentException {
        EngineState.Activation a = state().activation();
        Slot previous = Slot.parse(a.previousSlot());
        Slot failed = previous.other();
        Slot booted = slots.booted();
        checkRollbackBudget(a);
        if (booted == previous) {
            EngineState.Activation cur = state().activation();
            if (cur.checkSince() == null) {
                engine.amend(state().withActivation(cur.withCheckSince(now())));
                monitor = null;
            }
            if (monitor == null) monitor = new HealthMonitor(parts.health(), state().activation().checkSince());
            List<ProbeResult> results = monitor.checkOnce();
            lastProbes = results;
            Verdict v = monitor.observe(now(), results);
            if (v instanceof Verdict.Passing) return false;
            monitor = null;
            if (v instanceof Verdict.Healthy) {
                String rel = state().slot(failed.name()).release();
                String dig = state().slot(failed.name()).manifestDigest();
                engine.transition(UpdateEvent.SUCCESS, st -> st.withSlot(failed.name(), new EngineState.SlotRecord(rel, dig, SlotState.BAD.wire())),
                        Map.of("slot", previous.name(), "message", String.valueOf(a.rollbackReason())), a.commanded() ? "commanded" : "health_failed");
                slots.markBadQuietly(failed);
                try {
                    parts.boot().markGood(previous);
                } catch (BootControlException e) {
                    log.error("cannot mark slot {} good after rollback: {}", previous, e.getMessage());
                }
            } else {
                String why = ((Verdict.Unhealthy) v).reason();
                engine.transition(UpdateEvent.UNHEALTHY, st -> st.withError(new EngineState.ErrorRecord("previous_unhealthy",
                        "slot " + previous + " runs but is not healthy either: " + why, now())), Map.of("reason", why), "previous_unhealthy");
            }
            return true;
        }
        if (a.rollbackReboots() >= 1) {
            // rebooted once already and the failed slot still runs: the previous one did not boot
            engine.transition(UpdateEvent.FAILURE, st -> st.withError(new EngineState.ErrorRecord("previous_unbootable",
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
        engine.amend(state().withActivation(a.withRollbackReboot()));
        parts.hook().at("rollback-set");
        requestReboot("roll back to slot " + previous + ": " + a.rollbackReason());
        return false;
    }

    private void checkRollbackBudget(EngineState.Activation a) throws IOException {
        if (a.alerted() || a.rollbackSince() == null) return;
        if (now().isAfter(a.rollbackSince().plus(parts.rollbackBudget()))) {
            engine.amend(state().withActivation(a.withAlerted()));
            events.rollbackBudgetExceeded(state(), parts.rollbackBudget(), a);
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
}
