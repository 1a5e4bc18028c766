package rsuota.fleet.rollout;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.Cohort;
import rsuota.fleet.domain.CohortKind;
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
import rsuota.fleet.policy.SustainedTimer;
import rsuota.fleet.policy.Verdict;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.Tx;

/**
 * What operators do to rollouts (create, start, pause, resume, advance, rollback) and what they
 * read (status). Every mutation writes exactly one audit entry in its own transaction.
 */
public final class Rollouts {
    /** Default plan durations, from the story: canary 48 h, pilot 7 days, each wave a day. */
    static final Duration CANARY = Duration.ofHours(48);
    static final Duration PILOT = Duration.ofDays(7);
    static final Duration WAVE = Duration.ofDays(1);

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
    /** The caller's If-Match for the next decisions; null: unconditional. */
    private final RolloutTag.IfMatch ifMatch;

    Rollouts(Database db, RolloutActions actions, RolloutEngine engine, Clock clock, Runnable desiredWritten) {
        this(db, actions, engine, clock, desiredWritten, null);
    }

    private Rollouts(Database db, RolloutActions actions, RolloutEngine engine, Clock clock, Runnable desiredWritten, RolloutTag.IfMatch ifMatch) {
        this.db = db;
        this.actions = actions;
        this.engine = engine;
        this.clock = clock;
        this.desiredWritten = desiredWritten;
        this.ifMatch = ifMatch;
    }

    /**
     * These operations, each refused with PRECONDITION_FAILED (412) and nothing changed unless the
     * rollout's current {@link RolloutTag} matches {@code m} when its write transaction begins; the
     * check and the change share that transaction, so no other decision can slip in between.
     * Null {@code m}: unconditional, as every call was before ETags. New decision operations load
     * their rollout with {@code decided(tx, id)} to honour it.
     */
    public Rollouts ifMatch(RolloutTag.IfMatch m) {
        return m == null ? this : new Rollouts(db, actions, engine, clock, desiredWritten, m);
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
        long id = db.write(tx -> {
            Release r = RolloutActions.release(tx, release);
            List<NewPhase> plan = req.phases() == null || req.phases().isEmpty() ? defaultPlan(tx, release, scale) : req.phases();
            if (plan.isEmpty()) throw FleetException.invalid("phases", "release " + release + " has no cohorts: create cohorts first or list phases");
            RolloutRepository repo = new RolloutRepository(tx);
            long rid = repo.insert(release, settings, rules, now, who.label());
            Set<Long> seen = new HashSet<>();
            List<Map<String, Object>> detailPhases = new ArrayList<>();
            for (int i = 0; i < plan.size(); i++) {
                NewPhase p = plan.get(i);
                Cohort c = cohort(tx, release, p, i);
                if (!seen.add(c.id())) throw FleetException.invalid("phases[" + i + "].cohort", "cohort " + c.id() + " is listed twice");
                Optional<long[]> holder = repo.phaseOfCohort(c.id());
                if (holder.isPresent()) {
                    throw new FleetException(ErrorCode.COHORT_CONFLICT, "cohort " + c.id() + " ('" + c.name() + "') is already phase "
                            + holder.get()[1] + " of rollout " + holder.get()[0], Map.of("cohortId", c.id(), "rollout", holder.get()[0]));
                }
                Duration obs = p.observation() != null ? p.observation() : scaled(defaultObservation(c.kind()), scale);
                Approval ap = p.approval() != null ? p.approval() : c.kind() == CohortKind.WAVE ? Approval.AUTO : Approval.MANUAL;
                ExitCriteria ec = p.criteria() != null ? p.criteria() : ExitCriteria.STRICT;
                String name = p.name() != null ? Names.requireName(p.name(), "phases[" + i + "].name") : c.name();
                repo.insertPhase(rid, i, name, c.id(), obs, ap, ec);
                detailPhases.add(Map.of("cohort", c.id(), "name", name, "observation", Durations.format(obs), "approval", ap.wire()));
            }
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("release", release);
            detail.put("phases", detailPhases);
            detail.put("rulesVersion", rules.version());
            if (settings.corridorCap() != null) detail.put("corridorCap", settings.corridorCap());
            List<RolloutStatus.Blocked> blocked = blocked(tx, r, repo.phases(rid));
            if (!blocked.isEmpty()) detail.put("blocked", blocked.stream().map(b -> b.device() + ":" + b.variant()).toList());
            audit().append(tx, who, "rollout.create", "rollout:" + rid, reason, detail);
            return rid;
        });
        return status(id);
    }

    public RolloutStatus start(Principal who, long id, String reason) throws FleetException {
        String why = Names.optionalText(reason, "reason");
        Instant now = Millis.now(clock);
        db.write(tx -> {
            Rollout r = decided(tx, id);
            RolloutState next = RolloutTransitions.require(r, RolloutTransitions.Event.START);
            blockedBySev1(tx, r, "start");
            RolloutRepository repo = new RolloutRepository(tx);
            List<Phase> phases = repo.phases(id);
            for (Phase p : phases) {
                for (var m : tx.cohorts().members(p.cohortId())) {
                    List<Long> others = repo.otherActiveRollouts(m.deviceId(), id);
                    if (!others.isEmpty()) {
                        throw new FleetException(ErrorCode.COHORT_CONFLICT, "device " + m.deviceId() + " is in active rollout " + others.get(0)
                                + ": two rollouts would fight over its desired state", Map.of("device", m.deviceId(), "rollout", others.get(0)));
                    }
                }
            }
            repo.setState(id, next, 0, now);
            actions.openPhase(tx, rollout(tx, id), phases.get(0), now);
            audit().append(tx, who, "rollout.start", r.target(), why, Map.of("release", r.release(), "phase", phases.get(0).name()));
            return null;
        });
        return status(id);
    }

    public RolloutStatus pause(Principal who, long id, String reason) throws FleetException {
        String why = Names.requireText(reason, "reason");
        Instant now = Millis.now(clock);
        db.write(tx -> actions.pause(tx, decided(tx, id), PauseEvent.Cause.OPERATOR, List.of(), who, why, now));
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
            Rollout r = decided(tx, id);
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

    /** Approves a phase that met its gate and waits for a human; the next phase opens at once. */
    public RolloutStatus advance(Principal who, long id, String reason) throws FleetException {
        String why = Names.optionalText(reason, "reason");
        Instant now = Millis.now(clock);
        db.write(tx -> {
            Rollout r = decided(tx, id);
            if (r.state() != RolloutState.RUNNING) {
                throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "rollout " + id + " is " + r.state().wire() + ": only a running rollout advances",
                        Map.of("rollout", id, "state", r.state().wire()));
            }
            List<Phase> phases = new RolloutRepository(tx).phases(id);
            Phase p = phases.get(r.phaseIndex());
            if (p.state() != PhaseState.AWAITING_APPROVAL) {
                throw new FleetException(ErrorCode.GATE_NOT_MET, "phase " + p.idx() + " ('" + p.name() + "') is " + p.state().wire()
                        + (r.attention().isEmpty() ? "" : ": " + String.join("; ", r.attention())),
                        Map.of("rollout", id, "phase", p.idx(), "state", p.state().wire(), "unmet", r.attention()));
            }
            engine.advance(tx, r, phases, p, now, who.label());
            audit().append(tx, who, "rollout.advance", r.target(), why, Map.of("phase", p.idx(), "name", p.name()));
            return null;
        });
        return status(id);
    }

    public RolloutStatus rollback(Principal who, long id, RollbackRequest req) throws FleetException {
        String why = Names.requireText(req.reason(), "reason");
        RollbackScope scope = req.scope() == null ? RollbackScope.ROLLOUT : req.scope();
        Instant now = Millis.now(clock);
        db.write(tx -> {
            Rollout r = decided(tx, id);
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
                if (!r.state().active() && r.state() != RolloutState.COMPLETED) {
                    throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "rollout " + id + " is " + r.state().wire(), Map.of("state", r.state().wire()));
                }
                if (r.state() == RolloutState.COMPLETED) repo.setState(id, RolloutTransitions.require(r, RolloutTransitions.Event.ROLLBACK), r.phaseIndex(), now);
                detail.put("devices", actions.orderRollback(tx, r, List.of(d), now));
            } else {
                Phase p = phase(phases, scope, req, id);
                PhaseState ps = RolloutTransitions.requirePhase(p, RolloutTransitions.PhaseEvent.ROLL_BACK);
                if (!r.state().active() && r.state() != RolloutState.COMPLETED) {
                    throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "rollout " + id + " is " + r.state().wire(), Map.of("state", r.state().wire()));
                }
                targets = devices.stream().filter(d -> d.phaseIdx() == p.idx()).toList();
                detail.put("phase", p.idx());
                detail.put("cohort", p.cohortId());
                detail.put("devices", actions.orderRollback(tx, r, targets, now));
                repo.setPhase(p, ps, p.startedAt(), p.windowEndsAt(), p.gateMetAt(), now, p.approvedBy());
                repo.dropQueued(id, p.idx());
                if (r.state() == RolloutState.COMPLETED) {
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

    public List<Rollout> list(String release) throws FleetException {
        String r = Names.optionalName(release, "release");
        return db.read(tx -> new RolloutRepository(tx).list(r));
    }

    public RolloutStatus status(long id) throws FleetException {
        Instant now = Millis.now(clock);
        return db.read(tx -> status(tx, id, now));
    }

    private RolloutStatus status(Tx tx, long id, Instant now) throws SQLException, FleetException {
        Rollout r = rollout(tx, id);
        RolloutRepository repo = new RolloutRepository(tx);
        Release release = RolloutActions.release(tx, r.release());
        List<Phase> phases = repo.phases(id);
        List<DeviceProgress> devices = repo.devices(id);
        Map<String, SustainedTimer> timers = new PauseRepository(tx).timers(id);
        List<String> sev1 = RolloutActions.openSev1(tx, r.release());
        List<RolloutStatus.PhaseView> views = new ArrayList<>();
        for (Phase p : phases) {
            List<DeviceProgress> mine = devices.stream().filter(d -> d.phaseIdx() == p.idx()).toList();
            CohortTelemetry t = actions.telemetry(tx, r, p, devices, now, sev1);
            Map<String, Verdict> verdicts = RolloutActions.verdicts(r, t);
            List<RolloutStatus.Kpi> kpis = new ArrayList<>();
            for (PauseRule rule : r.rules().rules()) {
                Verdict v = verdicts.get(rule.name());
                String key = rule instanceof PauseRule.OpenSev1 ? rule.name() : rule.name() + "@" + p.cohortId();
                SustainedTimer timer = timers.get(key);
                Double observed = v instanceof Verdict.Breach b ? Double.valueOf(b.observed()) : v instanceof Verdict.Clear c ? Double.valueOf(c.observed()) : null;
                kpis.add(new RolloutStatus.Kpi(rule.name(), v.kind(), observed, rule.comparison(), rule.limit(), rule.unit(), v.sample(),
                        rule.minDevices(), Durations.format(rule.sustained()), timer == null ? null : timer.breachSince(),
                        v instanceof Verdict.Breach b ? b.offending() : List.of()));
            }
            Gate gate = Gate.of(p, mine.stream().filter(d -> d.active() || d.dispatched()).toList(), now, r.settings().silentAfter(), verdicts);
            Map<String, Integer> buckets = new TreeMap<>();
            gate.buckets().forEach((b, n) -> buckets.put(b.wire(), n));
            List<RolloutStatus.DeviceView> dv = mine.stream().map(d -> new RolloutStatus.DeviceView(d.deviceId(), d.corridor(),
                    Bucket.of(d, now, r.settings().silentAfter()).wire(), d.deviceState(), d.stateReason(), d.rev(), d.dispatchedAt(),
                    d.lastReportAt(), d.activatedAt(), d.held(), d.rollbackKind(), d.rollbackResult(), d.rollbackDeadline(),
                    d.overdueAt() != null)).toList();
            String cohortName = tx.cohorts().find(p.cohortId()).map(Cohort::name).orElse(p.name());
            views.add(new RolloutStatus.PhaseView(p.idx(), p.name(), p.cohortId(), cohortName, p.state().wire(), Durations.format(p.observation()),
                    p.approval().wire(), p.criteria(), p.startedAt(), p.windowEndsAt(), p.gateMetAt(), p.endedAt(), p.approvedBy(), buckets,
                    p.state() == PhaseState.PENDING ? List.of() : gate.unmet(), kpis, dv));
        }
        RolloutSettings s = r.settings();
        return new RolloutStatus(r.id(), r.release(), release.previousStable(), r.state().wire(), r.phaseIndex(), now,
                new RolloutStatus.Settings(s.corridorCap(), Durations.format(s.silentAfter()), Durations.format(s.rollbackDeadline()), s.window(),
                        s.activateDelay() == null ? null : Durations.format(s.activateDelay())),
                r.rules().version(), Durations.format(r.rules().window()), r.attention(), r.createdAt(), r.createdBy(), r.startedAt(), r.endedAt(),
                views, new PauseRepository(tx).list(id), new AlertRepository(tx).forRollout(id), blocked(tx, release, phases));
    }

    private static List<RolloutStatus.Blocked> blocked(Tx tx, Release release, List<Phase> phases) throws SQLException {
        List<RolloutStatus.Blocked> out = new ArrayList<>();
        for (Phase p : phases) {
            Optional<Cohort> c = tx.cohorts().find(p.cohortId());
            if (c.isEmpty() || c.get().filter() == null) continue;
            for (var b : Cohorts.resolve(tx, release, c.get().filter(), null).blocked()) {
                out.add(new RolloutStatus.Blocked(b.deviceId(), b.variant(), c.get().name()));
            }
        }
        return out;
    }

    private static void blockedBySev1(Tx tx, Rollout r, String what) throws SQLException, FleetException {
        List<String> sev1 = RolloutActions.openSev1(tx, r.release());
        if (!sev1.isEmpty()) {
            throw new FleetException(ErrorCode.RELEASE_BLOCKED, "release " + r.release() + " has open Sev1 incident(s) " + sev1
                    + ": no rollout of it may " + what + " until they are resolved", Map.of("incidents", sev1, "release", r.release()));
        }
    }

    /** The rollout a decision is about, after the caller's If-Match precondition (if any) held. */
    private Rollout decided(Tx tx, long id) throws SQLException, FleetException {
        Rollout r = rollout(tx, id);
        RolloutTag.require(tx, r, ifMatch);
        return r;
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

    private static Cohort cohort(Tx tx, String release, NewPhase p, int i) throws SQLException, FleetException {
        Optional<Cohort> c;
        if (p.cohortId() != null) c = tx.cohorts().find(p.cohortId());
        else if (p.cohort() != null) c = tx.cohorts().findByName(release, Names.requireName(p.cohort(), "phases[" + i + "].cohort"));
        else throw FleetException.invalid("phases[" + i + "].cohort", "is required (a cohort id or name)");
        Cohort found = c.orElseThrow(() -> FleetException.notFound("no cohort " + (p.cohortId() != null ? p.cohortId() : "'" + p.cohort() + "'")
                + " in release " + release));
        if (!found.release().equals(release)) {
            throw FleetException.invalid("phases[" + i + "].cohort", "cohort " + found.id() + " belongs to release " + found.release() + ", not " + release);
        }
        return found;
    }

    private static List<NewPhase> defaultPlan(Tx tx, String release, double scale) throws SQLException {
        List<Cohort> cohorts = new ArrayList<>(tx.cohorts().list(release));
        cohorts.sort(Comparator.comparing(Cohort::kind).thenComparing(Cohort::name));
        List<NewPhase> out = new ArrayList<>();
        for (Cohort c : cohorts) out.add(new NewPhase(c.id(), null, null, scaled(defaultObservation(c.kind()), scale), null, null));
        return out;
    }

    private static Duration defaultObservation(CohortKind k) {
        return switch (k) {
            case CANARY -> CANARY;
            case PILOT -> PILOT;
            case WAVE -> WAVE;
        };
    }

    private static Duration scaled(Duration d, double scale) {
        return Duration.ofMillis(Math.max(1, Math.round(d.toMillis() * scale)));
    }
}
