package rsuota.fleet.rollout;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Release;
import rsuota.fleet.policy.CohortTelemetry;
import rsuota.fleet.policy.Finding;
import rsuota.fleet.policy.PauseEvent;
import rsuota.fleet.policy.PhaseJudge;
import rsuota.fleet.policy.SustainedTimer;
import rsuota.fleet.policy.Verdict;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.Table;
import rsuota.fleet.store.Tx;

/**
 * Moves every active rollout one step per {@link #tick}: rollback deadlines, pause rules,
 * dispatch under the corridor cap, phase gates. Time comes only from the argument, so tests drive
 * it with explicit instants and the production ticker passes the clock's now.
 *
 * <p>Each rollout steps in its own write transaction and everything it decides is in the store
 * when the transaction commits (rows per device, rule timers, pause events), so a controller
 * killed at any instant resumes where it was: a device row with a rev was dispatched and is never
 * dispatched again, and windows and timers are instants, not countdowns.
 */
public final class RolloutEngine {
    private static final Logger log = LoggerFactory.getLogger(RolloutEngine.class);
    /** Desired states written per rollout per tick: keeps one tick's transaction short on a 10,000-device wave. */
    static final int DISPATCH_BUDGET = 2000;
    static final Principal ENGINE = Principal.system("rollout-engine");

    /** What one tick did, for logs, tests and the benchmark. */
    public record TickReport(int rollouts, int dispatched, List<PauseEvent> pauses, int phasesPassed, List<Alert> alerts) {}

    private final Database db;
    private final RolloutActions actions;
    private final AlertSink alerts;
    private final Runnable desiredWritten;

    RolloutEngine(Database db, RolloutActions actions, AlertSink alerts, Runnable desiredWritten) {
        this.db = db;
        this.actions = actions;
        this.alerts = alerts;
        this.desiredWritten = desiredWritten;
    }

    public TickReport tick(Instant at) throws FleetException {
        // The store keeps milliseconds; deciding on the same precision keeps a timer read back after a restart exact.
        Instant now = at.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        List<Long> ids = db.read(tx -> new RolloutRepository(tx).activeIds());
        int dispatched = 0;
        int passed = 0;
        List<PauseEvent> pauses = new ArrayList<>();
        List<Alert> raised = new ArrayList<>();
        for (long id : ids) {
            Step s = db.write(tx -> step(tx, id, now));
            dispatched += s.dispatched;
            passed += s.passed;
            pauses.addAll(s.pauses);
            raised.addAll(s.alerts);
        }
        for (Alert a : raised) alerts.raised(a);
        if (dispatched > 0 || passed > 0) db.bulkChanged(Table.ROLLOUT_DEVICES, Table.DESIRED_STATES); // a wave queued or ordered
        if (dispatched > 0 || !pauses.isEmpty()) desiredWritten.run();
        for (PauseEvent p : pauses) {
            log.warn("rollout {} paused by {} ({}): {}", p.rolloutId(), p.actor(), p.rule() == null ? p.cause() : p.rule(), p.reason());
        }
        return new TickReport(ids.size(), dispatched, pauses, passed, raised);
    }

    private static final class Step {
        int dispatched;
        int passed;
        final List<PauseEvent> pauses = new ArrayList<>();
        final List<Alert> alerts = new ArrayList<>();
    }

    private Step step(Tx tx, long id, Instant now) throws SQLException, FleetException {
        Step out = new Step();
        RolloutRepository repo = new RolloutRepository(tx);
        Rollout r = repo.find(id).orElseThrow();
        if (!r.state().active()) return out;
        List<Phase> phases = repo.phases(id);
        List<DeviceProgress> devices = repo.devices(id);
        List<String> attention = new ArrayList<>();

        trackRollbacks(tx, r, devices, now, attention, out);
        if (tx.releases().withdrawal(r.release()).isPresent()) {
            // A withdrawn release: units that verified it since the withdrawal drop it too.
            List<String> dropped = actions.dropWithdrawn(tx, r, devices, now);
            if (!dropped.isEmpty()) {
                actions.audit.append(tx, ENGINE, "rollout.withdrawn.drop", r.target(), "release " + r.release() + " withdrawn",
                        Map.of("devices", dropped));
                devices = repo.devices(id);
            }
            attention.add("release " + r.release() + " was withdrawn: roll back the units that run it, or leave them");
        }
        if (r.state() == RolloutState.ROLLING_BACK) {
            repo.setAttention(r, attention);
            return out;
        }

        // Rules over every cohort reached so far; Sev1 is release-wide and judged once.
        List<String> sev1 = RolloutActions.openSev1(tx, r.release());
        PauseRepository pauses = new PauseRepository(tx);
        Map<String, SustainedTimer> timers = pauses.timers(id);
        List<Finding> fired = new ArrayList<>();
        Map<String, Verdict> current = Map.of();
        for (Phase p : phases) {
            if (p.state() == PhaseState.PENDING || p.state() == PhaseState.ROLLED_BACK) continue;
            CohortTelemetry t = actions.telemetry(tx, r, p, devices, now, sev1);
            PhaseJudge.Result judged = PhaseJudge.judge(r.rules().rules(), t, p.idx() == r.phaseIndex(), timers, now);
            for (var e : judged.timers().entrySet()) {
                pauses.saveTimer(id, e.getKey(), e.getValue(), now);
                timers.put(e.getKey(), e.getValue());
            }
            for (PhaseJudge.Fired f : judged.fired()) fired.add(RolloutActions.finding(r, f.rule(), t, f.judged(), f.breachSince(), now));
            attention.addAll(judged.inconclusive());
            Map<String, Verdict> verdicts = judged.verdicts();
            if (p.idx() == r.phaseIndex()) current = verdicts;
        }
        recordNewHolds(tx, r, phases, attention, now, out);
        if (!fired.isEmpty() && r.state() == RolloutState.RUNNING) {
            Finding f = fired.get(0);
            String reason = f.explain();
            PauseEvent pe = actions.pause(tx, r, PauseEvent.Cause.RULE, fired, ENGINE, reason, now);
            out.pauses.add(pe);
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("release", r.release());
            detail.put("pauseEvent", pe.id());
            detail.put("rule", f.rule());
            if (f.cohort() != null) detail.put("cohort", f.cohort());
            detail.put("observed", f.observed());
            detail.put("threshold", f.comparison() + " " + f.threshold() + " " + f.unit());
            detail.put("reason", reason);
            out.alerts.add(new AlertRepository(tx).insert(now, Alert.PAUSED, r.id(), null, detail));
            repo.setAttention(r, attention);
            return out;
        }

        if (r.state() == RolloutState.RUNNING && r.phaseIndex() >= 0 && r.phaseIndex() < phases.size()) {
            Phase p = phases.get(r.phaseIndex());
            Release release = RolloutActions.release(tx, r.release());
            if (p.state() == PhaseState.ACTIVE) {
                RolloutActions.Dispatched sent = actions.dispatch(tx, r, release, p, devices, now, DISPATCH_BUDGET);
                out.dispatched += sent.revs().size();
                if (!sent.touched().isEmpty()) devices = repo.refreshed(id, devices, sent.touched());
            }
            List<DeviceProgress> mine = devices.stream().filter(d -> d.phaseIdx() == p.idx() && (d.active() || d.dispatched())).toList();
            Gate gate = Gate.of(p, mine, now, r.settings().silentAfter(), current);
            // Only when everything else says pass: the whole-window check reads the store, so it runs at the decision, not every tick.
            if (gate.met()) gate = gate.with(RolloutActions.observationUnmet(tx, r, p, now));
            if (p.state() == PhaseState.ACTIVE && gate.met()) {
                if (p.approval() == Approval.AUTO) {
                    advance(tx, r, phases, p, now, null);
                    out.passed++;
                } else {
                    repo.setPhase(p, RolloutTransitions.requirePhase(p, RolloutTransitions.PhaseEvent.GATE_MET_MANUAL),
                            p.startedAt(), p.windowEndsAt(), now, null, null);
                    attention.add("phase " + p.idx() + " ('" + p.name() + "') met its gate and waits for a release manager's advance");
                }
            } else if (p.state() == PhaseState.AWAITING_APPROVAL) {
                if (gate.met()) {
                    attention.add("phase " + p.idx() + " ('" + p.name() + "') met its gate and waits for a release manager's advance");
                } else {
                    repo.setPhase(p, RolloutTransitions.requirePhase(p, RolloutTransitions.PhaseEvent.GATE_LOST),
                            p.startedAt(), p.windowEndsAt(), null, null, null);
                }
            } else if (p.state() == PhaseState.ROLLED_BACK) {
                attention.add("the current phase " + p.idx() + " was rolled back: roll back the rollout or create a new one");
            }
            if (!gate.met() && p.windowEndsAt() != null && !now.isBefore(p.windowEndsAt()) && p.state() == PhaseState.ACTIVE) {
                attention.add("phase " + p.idx() + " ('" + p.name() + "') window has passed but its gate is not met: " + String.join("; ", gate.unmet()));
            }
        }
        repo.setAttention(repo.find(id).orElseThrow(), attention);
        return out;
    }

    /**
     * A phase whose window has passed and that is held because a rule is inconclusive is written
     * to the audit log and raised as an alert, once per hold (rule and cohort): a restart or a
     * changing sample count does not record it again. While the window still runs, too few
     * reporting devices is normal (they are downloading) and records nothing.
     */
    private void recordNewHolds(Tx tx, Rollout r, List<Phase> phases, List<String> attention, Instant now, Step out)
            throws SQLException, FleetException {
        if (r.phaseIndex() < 0 || r.phaseIndex() >= phases.size()) return;
        Phase current = phases.get(r.phaseIndex());
        if (current.state() != PhaseState.ACTIVE || current.windowEndsAt() == null || now.isBefore(current.windowEndsAt())) return;
        String cohort = tx.cohorts().find(current.cohortId()).map(rsuota.fleet.domain.Cohort::name).orElse(current.name());
        java.util.Set<String> recorded = new java.util.HashSet<>();
        for (Alert a : new AlertRepository(tx).forRollout(r.id())) {
            if (a.kind().equals(Alert.INCONCLUSIVE_HOLD)) recorded.add(String.valueOf(a.detail().get("key")));
        }
        for (String a : attention) {
            if (!a.contains(" is inconclusive:") || !holdKey(a).endsWith(" on cohort " + cohort)) continue;
            String key = current.idx() + ":" + holdKey(a);
            if (recorded.contains(key)) continue;
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("release", r.release());
            detail.put("phase", current.idx());
            detail.put("key", key);
            detail.put("hold", a);
            actions.audit.append(tx, ENGINE, "rollout.hold.inconclusive", r.target(), a, detail);
            out.alerts.add(new AlertRepository(tx).insert(now, Alert.INCONCLUSIVE_HOLD, r.id(), null, detail));
        }
    }

    /** "rule X on cohort Y is inconclusive": the hold without its changing sample counts. */
    private static String holdKey(String attentionLine) {
        return attentionLine.substring(0, attentionLine.indexOf(" is inconclusive:"));
    }

    /** Passes phase {@code p}; opens the next one or completes the rollout. */
    void advance(Tx tx, Rollout r, List<Phase> phases, Phase p, Instant now, String approvedBy) throws SQLException, FleetException {
        RolloutRepository repo = new RolloutRepository(tx);
        repo.setPhase(p, RolloutTransitions.requirePhase(p, RolloutTransitions.PhaseEvent.PASS), p.startedAt(), p.windowEndsAt(),
                p.gateMetAt() != null ? p.gateMetAt() : now, now, approvedBy);
        int next = p.idx() + 1;
        if (next >= phases.size()) {
            RolloutState done = RolloutTransitions.require(r, RolloutTransitions.Event.COMPLETE);
            repo.setState(r.id(), done, p.idx(), now);
            // A human's advance is audited by the API call itself (one entry per call); only the engine's own completion is audited here.
            if (approvedBy == null) actions.audit.append(tx, ENGINE, "rollout.complete", r.target(), null, Map.of("phases", phases.size()));
            return;
        }
        repo.setState(r.id(), r.state(), next, now);
        actions.openPhase(tx, r, phases.get(next), now);
    }

    /**
     * Rollback deadlines: a unit ordered back that has not confirmed a healthy boot on the previous
     * release by its deadline raises a {@code rollback_overdue} alert and is flagged
     * {@code needs_investigation} (both audited, once); the flag clears when it later confirms
     * (RolloutProgress) or an operator clears it. A rolling-back rollout ends once every order is
     * confirmed or flagged.
     */
    private void trackRollbacks(Tx tx, Rollout r, List<DeviceProgress> devices, Instant now, List<String> attention, Step out)
            throws SQLException, FleetException {
        RolloutRepository repo = new RolloutRepository(tx);
        for (DeviceProgress d : devices) {
            if (d.rollbackRev() == null) continue;
            if (d.flagged()) {
                attention.add("device " + d.deviceId() + " needs investigation: " + (d.overdueAt() != null
                        ? "no healthy boot on the previous release confirmed by its rollback deadline " + d.rollbackDeadline()
                        : "it reported " + d.deviceState()) + " (fleetctl rollout clear " + r.id() + " " + d.deviceId() + " --reason R)");
                continue;
            }
            if (d.rollbackResult() != null) continue;
            if (d.local() != null) {
                // the unit holds the rollback for its technician (and said so): not overdue, it waits for the unlock
                attention.add("device " + d.deviceId() + " is " + d.local().state() + " by " + d.local().by() + " since " + d.local().since()
                        + ": its rollback waits for the technician's unlock");
                continue;
            }
            if (!now.isBefore(d.rollbackDeadline()) && d.overdueAt() == null) {
                repo.overdue(r.id(), d.deviceId(), now);
                repo.rollbackResult(r.id(), d.deviceId(), "needs_investigation");
                Map<String, Object> detail = new LinkedHashMap<>();
                detail.put("release", r.release());
                detail.put("deadline", d.rollbackDeadline().toString());
                detail.put("orderedAt", d.rollbackAt().toString());
                detail.put("lastState", d.deviceState() == null ? "none" : d.deviceState());
                detail.put("lastReport", d.lastReportAt() == null ? "never" : d.lastReportAt().toString());
                out.alerts.add(new AlertRepository(tx).insert(now, Alert.ROLLBACK_OVERDUE, r.id(), d.deviceId(), detail));
                actions.audit.append(tx, ENGINE, "alert.rollback_overdue", "rollout:" + r.id() + "/device:" + d.deviceId(),
                        "no healthy boot on the previous release confirmed by the rollback deadline", detail);
                actions.audit.append(tx, ENGINE, "rollout.device.flag", "rollout:" + r.id() + "/device:" + d.deviceId(),
                        "needs_investigation: rollback deadline " + d.rollbackDeadline() + " passed", detail);
                out.alerts.add(new AlertRepository(tx).insert(now, Alert.NEEDS_INVESTIGATION, r.id(), d.deviceId(), detail));
                attention.add("device " + d.deviceId() + " needs investigation: no healthy boot on the previous release confirmed by its rollback deadline "
                        + d.rollbackDeadline() + " (fleetctl rollout clear " + r.id() + " " + d.deviceId() + " --reason R)");
            }
        }
        // A flagged unit counts as decided: the rollout ends rolled_back, the flag stays on the unit until it clears.
        if (r.state() == RolloutState.ROLLING_BACK && !stillOpen(repo, r)) {
            repo.setState(r.id(), RolloutTransitions.require(r, RolloutTransitions.Event.ROLLBACK_DONE), r.phaseIndex(), now);
            List<DeviceProgress> after = repo.devices(r.id());
            long flagged = after.stream().filter(DeviceProgress::flagged).count();
            actions.audit.append(tx, ENGINE, "rollout.rollback.done", r.target(), null,
                    Map.of("devices", after.stream().filter(d -> d.rollbackRev() != null).count(), "needsInvestigation", flagged));
        }
    }

    /** Whether a rollback order is still unconfirmed and not past its deadline (read back after this tick's flags). */
    private static boolean stillOpen(RolloutRepository repo, Rollout r) throws SQLException {
        for (DeviceProgress d : repo.devices(r.id())) {
            if (d.rollbackRev() != null && d.rollbackResult() == null) return true;
        }
        return false;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e12 ? Long.toString((long) v) : String.format(java.util.Locale.ROOT, "%.4f", v);
    }
}
