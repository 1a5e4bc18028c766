package rsuota.fleet.rollout;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.Durations;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.domain.Names;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Release;
import rsuota.fleet.policy.CohortTelemetry;
import rsuota.fleet.policy.PauseEvent;
import rsuota.fleet.policy.PauseRule;
import rsuota.fleet.policy.RuleSet;
import rsuota.fleet.policy.Verdict;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.Tx;

/**
 * What operators do to rollouts (create, start, pause, resume, advance, rollback) and what they
 * read (status). Every mutation writes exactly one audit entry in its own transaction.
 */
public final class Rollouts {

    /** One phase of a new rollout; the cohort by id or by name (within the release). */
    public record NewPhase(Long cohortId, String cohort, String name, Duration observation, Approval approval, ExitCriteria criteria) {}

    /**
     * A rollout to create. {@code phases} null or empty: the default plan over the release's
     * cohorts (canaries 48 h manual, pilots 7 days manual, waves 1 day auto, in name order),
     * every duration multiplied by {@code scale} (the lab compresses time with it).
     */
    public record NewRollout(String release, List<NewPhase> phases, RolloutSettings settings, RuleSet rules, Double scale, String reason) {}

    public enum RollbackScope { ROLLOUT, PHASE, COHORT, DEVICE }

    public record RollbackRequest(RollbackScope scope, Integer phase, Long cohort, String device, String reason) {}

    private final Database db;
    private final RolloutActions actions;
    private final RolloutEngine engine;
    private final Clock clock;
    private final Runnable desiredWritten;
    private final RolloutStatusReader reader;
    private final DecisionGuard guard = new DecisionGuard();

    Rollouts(Database db, RolloutActions actions, RolloutEngine engine, Clock clock, Runnable desiredWritten) {
        this.db = db;
        this.actions = actions;
        this.engine = engine;
        this.clock = clock;
        this.desiredWritten = desiredWritten;
        this.reader = new RolloutStatusReader(actions);
    }

    /**
     * Runs a decision ({@code call}) only if the rollout is still as the caller saw it: {@code etag}
     * is the If-Match header of the request (null: no condition); see {@link DecisionGuard}.
     */
    public <T> T ifMatch(String etag, Decision<T> call) throws FleetException {
        return guard.ifMatch(etag, call);
    }

    /** A decision on a rollout, run by {@link #ifMatch}. */
    @FunctionalInterface
    public interface Decision<T> {
        T run() throws FleetException;
    }

    private AuditLog audit() {
        return actions.audit;
    }

    public RolloutStatus create(Principal who, NewRollout req) throws FleetException {
        String release = Names.requireName(req.release(), "release");
        String reason = Names.optionalText(req.reason(), "reason");
        double scale = req.scale() == null ? 1.0 : req.scale();
        if (!(scale > 0 && scale <= 1)) throw FleetException.invalid("scale", "must be within (0, 1]");
        RolloutSettings settings = req.settings() == null ? RolloutSettings.defaults() : req.settings();
        RuleSet rules = req.rules() == null ? RuleSet.defaults() : req.rules();
        Instant now = Millis.now(clock);
        long id = db.write(tx -> RolloutPlanner.insert(tx, audit(), who, req, release, reason, scale, settings, rules, now));
        return status(id);
    }


    public RolloutStatus start(Principal who, long id, String reason) throws FleetException {
        String why = Names.optionalText(reason, "reason");
        Instant now = Millis.now(clock);
        db.write(tx -> {
            Rollout r = guard.guarded(tx, id);
            RolloutState next = RolloutTransitions.require(r, RolloutTransitions.Event.START);
            blockedBySev1(tx, r, "start");
            RolloutRepository repo = new RolloutRepository(tx);
            List<Phase> phases = repo.phases(id);
            var conflict = repo.firstConflict(id);
            if (conflict.isPresent()) {
                String d = conflict.get().deviceId();
                long other = conflict.get().otherRollout();
                throw new FleetException(ErrorCode.COHORT_CONFLICT, "device " + d + " is in active rollout " + other
                        + ": two rollouts would fight over its desired state", Map.of("device", d, "rollout", other));
            }
            repo.setState(id, next, 0, now);
            actions.openPhase(tx, rollout(tx, id), phases.get(0), now);
            audit().append(tx, who, "rollout.start", r.target(), why, Map.of("release", r.release(), "phase", phases.get(0).name()));
            return null;
        });
        db.bulkChanged(rsuota.fleet.store.Table.ROLLOUT_DEVICES);
        return status(id);
    }

    public RolloutStatus pause(Principal who, long id, String reason) throws FleetException {
        String why = Names.requireText(reason, "reason");
        Instant now = Millis.now(clock);
        db.write(tx -> actions.pause(tx, guard.guarded(tx, id), PauseEvent.Cause.OPERATOR, List.of(), who, why, now));
        desiredWritten.run();
        return status(id);
    }

    /**
     * Resumes a paused rollout. The caller must acknowledge every open pause event by id (having
     * read its findings); rule timers start afresh, and held devices get their activation back.
     */
    public RolloutStatus resume(Principal who, long id, String reason, List<Long> acknowledged) throws FleetException {
        String why = Names.requireText(reason, "reason");
        Instant now = Millis.now(clock);
        db.write(tx -> {
            Rollout r = guard.guarded(tx, id);
            RolloutState next = RolloutTransitions.require(r, RolloutTransitions.Event.RESUME);
            blockedBySev1(tx, r, "resume");
            PauseRepository pauses = new PauseRepository(tx);
            List<Long> open = pauses.list(id).stream().filter(PauseEvent::open).map(PauseEvent::id).toList();
            List<Long> missing = open.stream().filter(e -> acknowledged == null || !acknowledged.contains(e)).toList();
            if (!missing.isEmpty()) {
                throw new FleetException(ErrorCode.INVALID_REQUEST, "acknowledge the findings of pause event(s) " + missing
                        + " before resuming (fleetctl rollout status " + id + " shows them; pass --acknowledge ID)",
                        Map.of("field", "acknowledge", "pauseEvents", missing));
            }
            pauses.resume(id, now, who.label(), why);
            pauses.resetTimers(id);
            new RolloutRepository(tx).setState(id, next, r.phaseIndex(), now);
            int released = actions.unhold(tx, r, now);
            audit().append(tx, who, "rollout.resume", r.target(), why, Map.of("acknowledged", open, "reactivated", released));
            return null;
        });
        desiredWritten.run();
        return status(id);
    }

    /** The longest a human may extend an observation window in one call. */
    static final Duration MAX_EXTENSION = Duration.ofDays(30);

    /**
     * A release manager passes the current phase: one that met its gate and waits for approval, or
     * one held for a human (its window passed, and only evidence is missing: inconclusive rules,
     * silent devices; see {@link Gate#whyNotJudgeable}). Judging a held phase needs a reason, and
     * the audit entry records what was judged (every rule's verdict, value and sample, the device
     * buckets, the unmet items). Anything else is refused with GATE_NOT_MET and changes nothing.
     */
    public RolloutStatus advance(Principal who, long id, String reason) throws FleetException {
        String why = Names.optionalText(reason, "reason");
        Instant now = Millis.now(clock);
        db.write(tx -> {
            Rollout r = guard.guarded(tx, id);
            if (r.state() != RolloutState.RUNNING) {
                throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "rollout " + id + " is " + r.state().wire() + ": only a running rollout advances",
                        Map.of("rollout", id, "state", r.state().wire()));
            }
            RolloutRepository repo = new RolloutRepository(tx);
            List<Phase> phases = repo.phases(id);
            Phase p = phases.get(r.phaseIndex());
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("phase", p.idx());
            detail.put("name", p.name());
            if (p.state() == PhaseState.ACTIVE) {
                List<DeviceProgress> devices = repo.devices(id);
                CohortTelemetry t = actions.telemetry(tx, r, p, devices, now, RolloutActions.openSev1(tx, r.release()));
                Map<String, Verdict> verdicts = RolloutActions.gateVerdicts(r, t);
                Gate gate = Gate.of(p, devices.stream().filter(d -> d.phaseIdx() == p.idx() && (d.active() || d.dispatched())).toList(), now,
                        r.settings().silentAfter(), verdicts).with(RolloutActions.observationUnmet(tx, r, p, now));
                String notHeld = Gate.whyNotJudgeable(p, gate, now, verdicts);
                if (notHeld != null) {
                    throw new FleetException(ErrorCode.GATE_NOT_MET, "phase " + p.idx() + " ('" + p.name() + "') is not held for a human: " + notHeld,
                            Map.of("rollout", id, "phase", p.idx(), "state", p.state().wire(), "unmet", gate.unmet()));
                }
                if (why == null) {
                    throw FleetException.invalid("reason", "is required to pass a phase held for a human (" + String.join("; ", gate.unmet())
                            + "): say what you judged, it goes to the audit log with the values");
                }
                List<Map<String, Object>> judged = new ArrayList<>();
                verdicts.forEach((rule, v) -> {
                    Map<String, Object> j = new LinkedHashMap<>();
                    j.put("rule", rule);
                    j.put("verdict", v.kind());
                    if (v instanceof Verdict.Clear c) j.put("observed", c.observed());
                    if (v instanceof Verdict.Breach b) j.put("observed", b.observed());
                    j.put("sample", v.sample());
                    j.put("required", v instanceof Verdict.Inconclusive i ? i.required() : r.rules().rules().stream()
                            .filter(x -> rule.equals(x.name()) || rule.startsWith(x.name() + "[")).findFirst().map(PauseRule::minDevices).orElse(0));
                    if (v.evidence().control() != null) j.put("control", v.evidence().control());
                    judged.add(j);
                });
                Map<String, Integer> buckets = new TreeMap<>();
                gate.buckets().forEach((b, n) -> buckets.put(b.wire(), n));
                detail.put("judged", judged);
                detail.put("buckets", buckets);
                detail.put("unmet", gate.unmet());
            } else if (p.state() != PhaseState.AWAITING_APPROVAL) {
                throw new FleetException(ErrorCode.GATE_NOT_MET, "phase " + p.idx() + " ('" + p.name() + "') is " + p.state().wire()
                        + (r.attention().isEmpty() ? "" : ": " + String.join("; ", r.attention())),
                        Map.of("rollout", id, "phase", p.idx(), "state", p.state().wire(), "unmet", r.attention()));
            }
            engine.advance(tx, r, phases, p, now, who.label());
            audit().append(tx, who, "rollout.advance", r.target(), why, detail);
            return null;
        });
        return status(id);
    }

    /**
     * Extends the current phase's observation window by {@code by} from its end (or from now, if
     * it ended already): more time to collect evidence before a human judges, or for a gate to be
     * met. A phase awaiting approval goes back to observing. Audited {@code rollout.extend}.
     */
    public RolloutStatus extend(Principal who, long id, String by, String reason) throws FleetException {
        String why = Names.requireText(reason, "reason");
        Duration d = rsuota.fleet.domain.Durations.parse(by, "by");
        if (d.isZero() || d.isNegative() || d.compareTo(MAX_EXTENSION) > 0) {
            throw FleetException.invalid("by", "must be a duration above 0 and at most 30d, got " + by);
        }
        Instant now = Millis.now(clock);
        db.write(tx -> {
            Rollout r = guard.guarded(tx, id);
            if (r.state() != RolloutState.RUNNING && r.state() != RolloutState.PAUSED) {
                throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "rollout " + id + " is " + r.state().wire()
                        + ": only a running or paused rollout's window can be extended", Map.of("rollout", id, "state", r.state().wire()));
            }
            RolloutRepository repo = new RolloutRepository(tx);
            Phase p = repo.phases(id).get(r.phaseIndex());
            if (p.state() != PhaseState.ACTIVE && p.state() != PhaseState.AWAITING_APPROVAL) {
                throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "phase " + p.idx() + " ('" + p.name() + "') is " + p.state().wire()
                        + ": nothing to extend", Map.of("rollout", id, "phase", p.idx(), "state", p.state().wire()));
            }
            Instant from = p.windowEndsAt() == null || p.windowEndsAt().isBefore(now) ? now : p.windowEndsAt();
            Instant ends = from.plus(d);
            PhaseState next = p.state() == PhaseState.AWAITING_APPROVAL
                    ? RolloutTransitions.requirePhase(p, RolloutTransitions.PhaseEvent.GATE_LOST) : p.state();
            repo.setPhase(p, next, p.startedAt(), ends, null, null, null);
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("phase", p.idx());
            detail.put("by", rsuota.fleet.domain.Durations.format(d));
            detail.put("windowEndedAt", String.valueOf(p.windowEndsAt()));
            detail.put("windowEndsAt", ends.toString());
            audit().append(tx, who, "rollout.extend", r.target(), why, detail);
            return null;
        });
        return status(id);
    }

    public RolloutStatus rollback(Principal who, long id, RollbackRequest req) throws FleetException {
        String why = Names.requireText(req.reason(), "reason");
        RollbackScope scope = req.scope() == null ? RollbackScope.ROLLOUT : req.scope();
        Instant now = Millis.now(clock);
        db.write(tx -> {
            Rollout r = guard.guarded(tx, id);
            RolloutRepository repo = new RolloutRepository(tx);
            List<Phase> phases = repo.phases(id);
            List<DeviceProgress> devices = repo.devices(id);
            List<DeviceProgress> targets;
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("scope", scope.name().toLowerCase(java.util.Locale.ROOT));
            if (scope == RollbackScope.ROLLOUT) {
                RolloutState next = RolloutTransitions.require(r, RolloutTransitions.Event.ROLLBACK);
                targets = devices;
                List<String> ordered = actions.orderRollback(tx, r, targets, now);
                if (ordered.isEmpty() && r.state().ended()) {
                    throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "rollout " + id + " is " + r.state().wire()
                            + " and every unit it dispatched was already ordered back: nothing to roll back", Map.of("state", r.state().wire()));
                }
                for (Phase p : phases) {
                    if (p.state() != PhaseState.PENDING && p.state() != PhaseState.ROLLED_BACK) {
                        repo.setPhase(p, RolloutTransitions.requirePhase(p, RolloutTransitions.PhaseEvent.ROLL_BACK), p.startedAt(),
                                p.windowEndsAt(), p.gateMetAt(), now, p.approvedBy());
                    }
                    repo.dropQueued(id, p.idx());
                }
                repo.setState(id, next, r.phaseIndex(), now);
                detail.put("devices", ordered);
            } else if (scope == RollbackScope.DEVICE) {
                String device = Names.requireDeviceId(req.device(), "device");
                DeviceProgress d = devices.stream().filter(x -> x.deviceId().equals(device)).findFirst()
                        .orElseThrow(() -> FleetException.notFound("device " + device + " is not in rollout " + id));
                if (!d.dispatched()) throw FleetException.invalid("device", "device " + device + " was never dispatched: nothing to roll back");
                if (!r.state().active() && !r.state().ended()) {
                    throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "rollout " + id + " is " + r.state().wire(), Map.of("state", r.state().wire()));
                }
                if (d.rollbackRev() != null) {
                    throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "device " + device + " was already ordered back at " + d.rollbackAt(),
                            Map.of("device", device, "state", r.state().wire()));
                }
                if (r.state().ended()) repo.setState(id, RolloutTransitions.require(r, RolloutTransitions.Event.ROLLBACK), r.phaseIndex(), now);
                detail.put("devices", actions.orderRollback(tx, r, List.of(d), now));
            } else {
                Phase p = phase(phases, scope, req, id);
                PhaseState ps = RolloutTransitions.requirePhase(p, RolloutTransitions.PhaseEvent.ROLL_BACK);
                if (!r.state().active() && !r.state().ended()) {
                    throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "rollout " + id + " is " + r.state().wire(), Map.of("state", r.state().wire()));
                }
                targets = devices.stream().filter(d -> d.phaseIdx() == p.idx()).toList();
                detail.put("phase", p.idx());
                detail.put("cohort", p.cohortId());
                detail.put("devices", actions.orderRollback(tx, r, targets, now));
                repo.setPhase(p, ps, p.startedAt(), p.windowEndsAt(), p.gateMetAt(), now, p.approvedBy());
                repo.dropQueued(id, p.idx());
                if (r.state().ended()) {
                    repo.setState(id, RolloutTransitions.require(r, RolloutTransitions.Event.ROLLBACK), r.phaseIndex(), now);
                } else if (r.state() == RolloutState.RUNNING) {
                    // Rolling part of a rollout back while the rest goes on would be incoherent: stop the rest too.
                    RolloutState paused = RolloutTransitions.require(r, RolloutTransitions.Event.PAUSE);
                    repo.setState(id, paused, r.phaseIndex(), now);
                    actions.hold(tx, r, now);
                    new PauseRepository(tx).insert(new PauseEvent(0, id, now, PauseEvent.Cause.ROLLBACK, null, null, p.cohortId(), List.of(),
                            Map.of(), Map.of(), who.label(), "rollback of phase " + p.idx() + " ('" + p.name() + "'): " + why, null, null, null));
                }
            }
            audit().append(tx, who, "rollout.rollback", r.target(), why, detail);
            return null;
        });
        desiredWritten.run();
        return status(id);
    }

    /**
     * An operator who looked at a unit flagged {@code needs_investigation} clears the flag, with a
     * reason (audited {@code rollout.device.flag.clear}). Refused, changing nothing, when the unit is not flagged.
     */
    public RolloutStatus clearFlag(Principal who, long id, String device, String reason) throws FleetException {
        String why = Names.requireText(reason, "reason");
        String dev = Names.requireDeviceId(device, "device");
        Instant now = Millis.now(clock);
        db.write(tx -> {
            Rollout r = guard.guarded(tx, id);
            RolloutRepository repo = new RolloutRepository(tx);
            DeviceProgress d = repo.devices(id).stream().filter(x -> x.deviceId().equals(dev)).findFirst()
                    .orElseThrow(() -> FleetException.notFound("device " + dev + " is not in rollout " + id));
            if (!d.flagged()) {
                throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "device " + dev + " is not flagged needs_investigation in rollout " + id
                        + " (it is " + Bucket.of(d, now, r.settings().silentAfter()).wire() + "): nothing to clear", Map.of("device", dev));
            }
            repo.rollbackResult(id, dev, "cleared");
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("device", dev);
            detail.put("lastState", d.deviceState() == null ? "none" : d.deviceState());
            if (d.overdueAt() != null) detail.put("overdueAt", d.overdueAt().toString());
            audit().append(tx, who, "rollout.device.flag.clear", "rollout:" + id + "/device:" + dev, why, detail);
            return null;
        });
        return status(id);
    }

    /** Units flagged needs_investigation per rollout (rollout id -> device ids), across all rollouts, ended ones included. */
    public Map<Long, List<String>> flagged() throws FleetException {
        return db.read(tx -> {
            Map<Long, List<String>> out = new TreeMap<>();
            for (DeviceProgress d : new RolloutRepository(tx).flagged()) {
                if (d.flagged()) out.computeIfAbsent(d.rolloutId(), k -> new ArrayList<>()).add(d.deviceId());
            }
            return out;
        });
    }

    public List<Rollout> list(String release) throws FleetException {
        String r = Names.optionalName(release, "release");
        return db.read(tx -> new RolloutRepository(tx).list(r));
    }

    public RolloutStatus status(long id) throws FleetException {
        Instant now = Millis.now(clock);
        return db.read(tx -> reader.status(tx, id, now));
    }

    /** The release's notes from the stored data: variants supported and blocked, each rollout's plan and rules. */
    public ReleaseNotes notes(String version) throws FleetException {
        String v = Names.requireName(version, "version");
        return db.read(tx -> {
            Release r = RolloutActions.release(tx, v);
            List<Rollout> all = new ArrayList<>(new RolloutRepository(tx).list(v));
            java.util.Collections.reverse(all);
            return ReleaseNotes.of(tx, r, all);
        });
    }

    private static void blockedBySev1(Tx tx, Rollout r, String what) throws SQLException, FleetException {
        RolloutActions.notWithdrawn(tx, r.release(), what);
        List<String> sev1 = RolloutActions.openSev1(tx, r.release());
        if (!sev1.isEmpty()) {
            throw new FleetException(ErrorCode.RELEASE_BLOCKED, "release " + r.release() + " has open Sev1 incident(s) " + sev1
                    + ": no rollout of it may " + what + " until they are resolved", Map.of("incidents", sev1, "release", r.release()));
        }
    }

    /**
     * Takes a release back (audited as release.withdraw): no rollout of it may be created, started or
     * resumed again; running ones pause; units that verified it but never activated it are ordered
     * back, so they drop it (the engine orders the ones still downloading as soon as they verify).
     * Units already running it stay: roll them back explicitly. Returns the rollouts it touched.
     */
    public List<Long> withdraw(Principal who, String version, String reason) throws FleetException {
        String v = Names.requireName(version, "version");
        String why = Names.requireText(reason, "reason");
        Instant now = Millis.now(clock);
        List<Long> touched = db.write(tx -> {
            RolloutActions.release(tx, v);
            var was = tx.releases().withdrawal(v);
            if (was.isPresent()) {
                throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "release " + v + " was withdrawn already at " + was.get().at() + " by "
                        + was.get().by(), Map.of("release", v));
            }
            tx.releases().withdraw(v, now, who.label(), why);
            RolloutRepository repo = new RolloutRepository(tx);
            List<Long> ids = new ArrayList<>();
            Map<String, Object> dropped = new LinkedHashMap<>();
            for (Rollout r : repo.list(v)) {
                if (!r.state().active()) continue;
                ids.add(r.id());
                if (r.state() == RolloutState.RUNNING) {
                    actions.pause(tx, r, PauseEvent.Cause.OPERATOR, List.of(), who, "release " + v + " withdrawn: " + why, now);
                }
                for (Phase p : repo.phases(r.id())) repo.dropQueued(r.id(), p.idx());
                List<String> d = actions.dropWithdrawn(tx, repo.find(r.id()).orElseThrow(), repo.devices(r.id()), now);
                if (!d.isEmpty()) dropped.put("rollout:" + r.id(), d);
            }
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("rollouts", ids);
            detail.put("dropped", dropped);
            audit().append(tx, who, "release.withdraw", "release:" + v, why, detail);
            return ids;
        });
        desiredWritten.run();
        return touched;
    }

    private static Rollout rollout(Tx tx, long id) throws SQLException, FleetException {
        return new RolloutRepository(tx).find(id).orElseThrow(() -> FleetException.notFound("no rollout " + id));
    }

    private static Phase phase(List<Phase> phases, RollbackScope scope, RollbackRequest req, long id) throws FleetException {
        if (scope == RollbackScope.PHASE) {
            if (req.phase() == null) throw FleetException.invalid("phase", "is required for a phase rollback");
            return phases.stream().filter(p -> p.idx() == req.phase()).findFirst()
                    .orElseThrow(() -> FleetException.notFound("rollout " + id + " has no phase " + req.phase()));
        }
        if (req.cohort() == null) throw FleetException.invalid("cohort", "is required for a cohort rollback");
        return phases.stream().filter(p -> p.cohortId() == req.cohort()).findFirst()
                .orElseThrow(() -> FleetException.notFound("cohort " + req.cohort() + " is not a phase of rollout " + id));
    }
}
