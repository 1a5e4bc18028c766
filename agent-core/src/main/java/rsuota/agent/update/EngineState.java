package rsuota.agent.update;

import rsuota.wire.SlotState;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything the agent must remember across kill -9 and power cuts, persisted atomically by
 * {@link StateStore} before each transition's side effects.
 *
 * @param state         the current state
 * @param order         what was ordered (null when idle)
 * @param target        the verified bundle being installed (null until its header verified)
 * @param slots         what each slot holds, keyed "A"/"B"
 * @param securityFloor anti-downgrade floor; raised when a release is committed
 * @param lastError     last failure, or null
 * @param reentries     how often the current state was entered again after a restart (loop guard)
 * @param activation    activation bookkeeping (null until activation was ordered)
 * @param updatedAt     time of this record
 */
public record EngineState(UpdateState state, Order order, Target target, Map<String, SlotRecord> slots,
                          long securityFloor, ErrorRecord lastError, int reentries, Activation activation, Instant updatedAt) {

    public EngineState {
        slots = slots == null ? Map.of() : Map.copyOf(slots);
    }

    /**
     * @param source         URL or local file path of the bundle
     * @param release        release the controller named, or null (technician install)
     * @param manifestDigest manifest digest the controller named, or null
     * @param rev            desired-state rev (0 for local orders)
     * @param downloadOnly   stop at VERIFIED
     * @param rolloutId      rollout this order belongs to, or null
     * @param bandwidthCap   the rollout's download cap in bytes/s, replacing the unit's cap and schedule; null: the unit's
     */
    public record Order(String source, String release, String manifestDigest, long rev, boolean downloadOnly, String rolloutId,
                        String window, Instant activateAfter, Long bandwidthCap) {
        public Order(String source, String release, String manifestDigest, long rev, boolean downloadOnly, String rolloutId) {
            this(source, release, manifestDigest, rev, downloadOnly, rolloutId, null, null, null);
        }

        public Order(String source, String release, String manifestDigest, long rev, boolean downloadOnly, String rolloutId,
                     String window, Instant activateAfter) {
            this(source, release, manifestDigest, rev, downloadOnly, rolloutId, window, activateAfter, null);
        }
    }

    /**
     * @param release        release in the bundle
     * @param manifestDigest SHA-256 of the verified manifest bytes
     * @param securityVersion the bundle's security version
     * @param slot           the slot being written ("A"/"B")
     * @param bundleSize     total bundle length seen when the download started (binds a resume)
     * @param etag           the server's ETag when the download started, or null
     * @param payloadBytes   payload size
     * @param chunksTotal    chunks over all images
     * @param headerBytes    bytes fetched for the header (counted in bytes fetched)
     */
    public record Target(String release, String manifestDigest, long securityVersion, String slot, long bundleSize,
                         String etag, long payloadBytes, int chunksTotal, long headerBytes) {}

    /** @param status empty | written | verified | good | bad | trial */
    public record SlotRecord(String release, String manifestDigest, String status) {}

    public record ErrorRecord(String code, String message, Instant at) {}

    /**
     * @param window          the order's window narrowing the device's own (text), or null
     * @param activateAfter   earliest instant, or null
     * @param now             activate as soon as no inhibitor holds, ignoring the device's windows (technician --now)
     * @param previousSlot    the slot that ran before the trial: where a rollback returns to
     * @param trialSince      when the trial boot was set in the bootloader (null: not yet)
     * @param commitSince     when health checks started after the reboot
     * @param rollbackSince   when the rollback was decided
     * @param rollbackReason  why
     * @param commanded       rollback ordered by the controller or a technician (not a failed commit)
     * @param rollbackReboots reboots issued for this rollback (the agent never loops between slots)
     * @param checkSince      when health checks of the previous slot started after the rollback reboot
     * @param alerted         whether the rollback budget alert was raised
     */
    public record Activation(String window, Instant activateAfter, boolean now, String previousSlot, Instant trialSince,
                             Instant commitSince, Instant rollbackSince, String rollbackReason, boolean commanded,
                             int rollbackReboots, Instant checkSince, boolean alerted) {
        public static Activation ordered(String window, Instant activateAfter, boolean now) {
            return new Activation(window, activateAfter, now, null, null, null, null, null, false, 0, null, false);
        }

        public Activation withPrevious(String slot) {
            return new Activation(window, activateAfter, now, slot, trialSince, commitSince, rollbackSince, rollbackReason, commanded, rollbackReboots, checkSince, alerted);
        }

        public Activation withTrialSince(Instant t) {
            return new Activation(window, activateAfter, now, previousSlot, t, commitSince, rollbackSince, rollbackReason, commanded, rollbackReboots, checkSince, alerted);
        }

        public Activation withCommitSince(Instant t) {
            return new Activation(window, activateAfter, now, previousSlot, trialSince, t, rollbackSince, rollbackReason, commanded, rollbackReboots, checkSince, alerted);
        }

        public Activation withRollback(Instant since, String reason, boolean byCommand) {
            return new Activation(window, activateAfter, now, previousSlot, trialSince, commitSince, since, reason, byCommand, 0, null, false);
        }

        public Activation withRollbackReboot() {
            return new Activation(window, activateAfter, now, previousSlot, trialSince, commitSince, rollbackSince, rollbackReason, commanded, rollbackReboots + 1, checkSince, alerted);
        }

        public Activation withCheckSince(Instant t) {
            return new Activation(window, activateAfter, now, previousSlot, trialSince, commitSince, rollbackSince, rollbackReason, commanded, rollbackReboots, t, alerted);
        }

        public Activation withAlerted() {
            return new Activation(window, activateAfter, now, previousSlot, trialSince, commitSince, rollbackSince, rollbackReason, commanded, rollbackReboots, checkSince, true);
        }
    }

    public static EngineState initial(Instant now) {
        return new EngineState(UpdateState.IDLE, null, null, Map.of(), 0, null, 0, null, now);
    }

    public EngineState withState(UpdateState s, Instant now) {
        return new EngineState(s, order, target, slots, securityFloor, lastError, s == state ? reentries : 0, activation, now);
    }

    public EngineState withOrder(Order o) {
        return new EngineState(state, o, target, slots, securityFloor, lastError, reentries, activation, updatedAt);
    }

    public EngineState withTarget(Target t) {
        return new EngineState(state, order, t, slots, securityFloor, lastError, reentries, activation, updatedAt);
    }

    public EngineState withSlot(String slot, SlotRecord r) {
        Map<String, SlotRecord> m = new LinkedHashMap<>(slots);
        m.put(slot, r);
        return new EngineState(state, order, target, m, securityFloor, lastError, reentries, activation, updatedAt);
    }

    public EngineState withError(ErrorRecord e) {
        return new EngineState(state, order, target, slots, securityFloor, e, reentries, activation, updatedAt);
    }

    public EngineState withFloor(long floor) {
        return new EngineState(state, order, target, slots, floor, lastError, reentries, activation, updatedAt);
    }

    public EngineState withReentry() {
        return new EngineState(state, order, target, slots, securityFloor, lastError, reentries + 1, activation, updatedAt);
    }

    public EngineState withActivation(Activation a) {
        return new EngineState(state, order, target, slots, securityFloor, lastError, reentries, a, updatedAt);
    }

    public SlotRecord slot(String name) {
        return slots.getOrDefault(name, new SlotRecord(null, null, SlotState.EMPTY.wire()));
    }
}
