package rsuota.fleet.rollout;

import rsuota.wire.DeploymentState;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.Cohort;
import rsuota.fleet.domain.CohortMember;
import rsuota.fleet.domain.Device;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Incident;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Release;
import rsuota.fleet.domain.Severity;
import rsuota.fleet.policy.CohortTelemetry;
import rsuota.fleet.policy.DeviceKpis;
import rsuota.fleet.policy.Finding;
import rsuota.fleet.policy.LinkTemplates;
import rsuota.fleet.policy.PauseEvent;
import rsuota.fleet.policy.PauseRule;
import rsuota.fleet.policy.RuleEvaluator;
import rsuota.fleet.policy.TelemetryWindow;
import rsuota.fleet.policy.Verdict;
import rsuota.fleet.store.Tx;
import rsuota.wire.Topics;

/**
 * The steps the engine and the API share, each inside the caller's write transaction: open a
 * phase, dispatch, pause (holding not-yet-activated devices), release the hold, order rollbacks,
 * and build the telemetry a cohort's rules are judged on.
 */
final class RolloutActions {
    /** Device states before the trial boot is set: a held activation can still be turned download-only. */
    private static final java.util.Set<String> NOT_YET_ACTIVATING = java.util.Set.of(DeploymentState.IDLE.wire(), DeploymentState.PENDING.wire(),
            DeploymentState.DOWNLOADING.wire(), DeploymentState.VERIFIED.wire(), DeploymentState.AWAITING_WINDOW.wire());

    /** Offending devices linked in one pause event: enough to start with, bounded so an event stays readable. */
    static final int MAX_LINKED_DEVICES = 50;

    final AuditLog audit;
    final DesiredWriter desired;
    final TelemetryWindow window;
    final LinkTemplates links;
    final Supplier<String> controllerUrl;
    final Clock clock;

    RolloutActions(AuditLog audit, DesiredWriter desired, TelemetryWindow window, LinkTemplates links, Supplier<String> controllerUrl, Clock clock) {
        this.audit = audit;
        this.desired = desired;
        this.window = window;
        this.links = links;
        this.controllerUrl = controllerUrl;
        this.clock = clock;
    }

    static Release release(Tx tx, String version) throws SQLException, FleetException {
        return tx.releases().find(version).orElseThrow(() -> FleetException.notFound("no release '" + version + "'"));
    }

    static List<String> openSev1(Tx tx, String release) throws SQLException {
        return tx.incidents().openFor(release).stream().filter(i -> i.severity() == Severity.SEV1).map(Incident::id).toList();
    }

    /** Opens a phase: queues its cohort's members and starts its observation window. */
    void openPhase(Tx tx, Rollout r, Phase p, Instant now) throws SQLException, FleetException {
        PhaseState s = RolloutTransitions.requirePhase(p, RolloutTransitions.PhaseEvent.OPEN);
        RolloutRepository repo = new RolloutRepository(tx);
        List<String> ids = tx.cohorts().members(p.cohortId()).stream().map(CohortMember::deviceId).toList();
        Map<String, Device> devices = tx.devices().findAll(ids); // a 100,000-unit wave in 200 reads, not one per unit
        List<RolloutRepository.Queued> queued = new ArrayList<>();
        for (String id : ids) {
            Device dev = devices.get(id);
            queued.add(new RolloutRepository.Queued(id, dev == null ? null : dev.record().corridor(), dev == null ? null : running(dev)));
        }
        repo.queue(r.id(), p.idx(), r.release(), queued);
        repo.setPhase(p, s, now, now.plus(p.observation()), null, null, null);
    }

    /** What one dispatch did: each ordered unit's rev, and the units refused an order (their rows changed too). */
    record Dispatched(Map<String, Long> revs, List<String> refused) {
        java.util.Set<String> touched() {
            java.util.Set<String> all = new java.util.HashSet<>(revs.keySet());
            all.addAll(refused);
            return all;
        }
    }

    /**
     * Dispatches queued devices of the current phase, at most {@code budget}, respecting the
     * corridor cap across all active rollouts.
     */
    Dispatched dispatch(Tx tx, Rollout r, Release release, Phase p, List<DeviceProgress> devices, Instant now, int budget)
            throws SQLException {
        RolloutRepository repo = new RolloutRepository(tx);
        Integer cap = r.settings().corridorCap();
        Map<String, Integer> inTrial = cap == null ? Map.of() : new LinkedHashMap<>(repo.inTrialByCorridor());
        List<String> sent = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (DeviceProgress d : devices) {
            if (sent.size() >= budget) break;
            // a unit a technician holds gets no order: the controller never overwrites a local action
            if (d.phaseIdx() != p.idx() || d.dispatched() || !d.active() || d.deviceState() != null || d.local() != null) continue;
            if (!Topics.DEVICE_ID.matcher(d.deviceId()).matches()) {
                // An imported id that cannot be an MQTT topic level can never receive an order: say so, never skip silently.
                repo.failedLocally(r.id(), d.deviceId(), "DEVICE_ID_NOT_ADDRESSABLE", now);
                refused.add(d.deviceId());
                continue;
            }
            if (cap != null && d.corridor() != null) {
                int used = inTrial.getOrDefault(d.corridor(), 0);
                if (used >= cap) continue;
                inTrial.put(d.corridor(), used + 1);
            }
            sent.add(d.deviceId());
        }
        // The whole batch in a few round trips (a wave of 100,000 units is dispatched inside the store-wide write order,
        // which telemetry ingest waits for): older ended rollouts let go of the units, the orders, the rows.
        repo.retireFromEnded(sent, r.id());
        Map<String, Long> revs = desired.activate(tx, r, release, sent, now);
        repo.dispatched(r.id(), revs, now);
        // What each runs at its first dispatch is what its download starts from (the expected bytes per source release).
        Map<String, String> states = tx.devices().reportedStates(sent);
        Map<String, String> from = new LinkedHashMap<>();
        for (String id : sent) from.put(id, running(states.get(id)));
        repo.fromReleases(r.id(), from);
        return new Dispatched(revs, refused);
    }

    /**
     * Pauses at once: the state moves, every dispatched device that has not begun activating gets
     * a download-only order instead, and the event is stored and audited (one entry).
     */
    PauseEvent pause(Tx tx, Rollout r, PauseEvent.Cause cause, List<Finding> findings, Principal who, String reason, Instant now)
            throws SQLException, FleetException {
        RolloutState next = RolloutTransitions.require(r, RolloutTransitions.Event.PAUSE);
        RolloutRepository repo = new RolloutRepository(tx);
        repo.setState(r.id(), next, r.phaseIndex(), now);
        int held = hold(tx, r, now);
        Finding first = findings.isEmpty() ? null : findings.get(0);
        String cohort = first == null ? null : first.cohort();
        Instant from = now.minus(r.rules().window());
        List<String> offending = new ArrayList<>();
        for (Finding f : findings) {
            for (String d : f.offending()) if (!offending.contains(d) && offending.size() < MAX_LINKED_DEVICES) offending.add(d);
        }
        PauseEvent e = new PauseRepository(tx).insert(new PauseEvent(0, r.id(), now, cause, first == null ? null : first.rule(),
                first == null ? null : first.ruleVersion(), first == null ? null : first.cohortId(), findings,
                links.rolloutLinks(controllerUrl.get(), r.release(), r.id(), cohort, from, now,
                        first == null ? null : rsuota.fleet.policy.PromSeries.expr(first.rule(), r.release(), r.id(), cohort, first.slice())),
                links.deviceLinks(controllerUrl.get(), r.release(), r.id(), cohort, from, now, offending),
                who.label(), reason, null, null, null));
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("pauseEvent", e.id());
        detail.put("cause", cause.name().toLowerCase(java.util.Locale.ROOT));
        if (first != null) {
            detail.put("rule", first.rule());
            detail.put("ruleVersion", first.ruleVersion());
            detail.put("observed", first.observed());
            detail.put("threshold", first.comparison() + " " + first.threshold() + " " + first.unit());
        }
        detail.put("held", held);
        audit.append(tx, who, "rollout.pause", r.target(), reason, detail);
        return e;
    }

    /** Replaces not-yet-activating orders by download-only ones; returns how many. */
    int hold(Tx tx, Rollout r, Instant now) throws SQLException, FleetException {
        RolloutRepository repo = new RolloutRepository(tx);
        Release release = release(tx, r.release());
        List<String> ids = new ArrayList<>();
        for (DeviceProgress d : repo.devices(r.id())) {
            if (!d.dispatched() || d.held() || d.settled() || d.rollbackRev() != null || !d.active()) continue;
            if (d.deviceState() != null && !NOT_YET_ACTIVATING.contains(d.deviceState())) continue;
            ids.add(d.deviceId());
        }
        desired.hold(tx, r, release, ids, now);
        repo.held(r.id(), ids, true);
        return ids.size();
    }

    /** Re-issues the activation of every held device (a new rev, so the device acts on it). */
    int unhold(Tx tx, Rollout r, Instant now) throws SQLException, FleetException {
        RolloutRepository repo = new RolloutRepository(tx);
        Release release = release(tx, r.release());
        List<String> ids = new ArrayList<>();
        for (DeviceProgress d : repo.devices(r.id())) {
            if (d.held() && d.rollbackRev() == null) ids.add(d.deviceId());
        }
        repo.dispatched(r.id(), desired.activate(tx, r, release, ids, now), now);
        return ids.size();
    }

    /** Orders {@code targets} back to the release's previous stable; returns the devices ordered. */
    /** RELEASE_BLOCKED when {@code release} was withdrawn: nothing of it may {@code what} again. */
    static void notWithdrawn(Tx tx, String release, String what) throws SQLException, FleetException {
        var w = tx.releases().withdrawal(release);
        if (w.isPresent()) {
            throw new FleetException(ErrorCode.RELEASE_BLOCKED, "release " + release + " was withdrawn at " + w.get().at() + " by " + w.get().by()
                    + " (" + w.get().reason() + "): no rollout of it may " + what, Map.of("release", release));
        }
    }

    /**
     * Orders back the units of a withdrawn release's rollout that verified it (or wait for a window)
     * but never activated it and were not ordered back yet: they drop it. Returns their ids.
     */
    List<String> dropWithdrawn(Tx tx, Rollout r, List<DeviceProgress> devices, Instant now) throws SQLException, FleetException {
        List<DeviceProgress> drop = devices.stream().filter(d -> d.dispatched() && d.active() && d.rollbackRev() == null && d.activatedAt() == null
                && (DeploymentState.VERIFIED.is(d.deviceState()) || DeploymentState.AWAITING_WINDOW.is(d.deviceState()))).toList();
        return drop.isEmpty() ? List.of() : orderRollback(tx, r, drop, now);
    }

    List<String> orderRollback(Tx tx, Rollout r, List<DeviceProgress> targets, Instant now) throws SQLException, FleetException {
        Release release = release(tx, r.release());
        String stable = release.previousStable();
        if (stable == null) {
            throw FleetException.invalid("release", "release " + r.release() + " names no previous stable release to roll back to");
        }
        Release stableRelease = tx.releases().find(stable).orElse(null);
        RolloutRepository repo = new RolloutRepository(tx);
        List<DeviceProgress> due = targets.stream().filter(d -> d.dispatched() && d.rollbackRev() == null).toList();
        List<String> ordered = due.stream().map(DeviceProgress::deviceId).toList();
        Map<String, Long> revs = desired.rollback(tx, r, stable, stableRelease, ordered, now);
        List<RolloutRepository.RollbackOrder> orders = new ArrayList<>();
        for (DeviceProgress d : due) {
            // A box that already rolled back by itself is back on the stable release: healthy at once.
            String result = DeploymentState.ROLLED_BACK.is(d.deviceState()) ? "healthy" : null;
            orders.add(new RolloutRepository.RollbackOrder(d.deviceId(), revs.get(d.deviceId()), result));
        }
        repo.rollbackOrdered(r.id(), orders, now, now.plus(r.settings().rollbackDeadline()));
        return ordered;
    }

    /**
     * The telemetry the rules judge one phase's cohort on: each dispatched device's KPI means over
     * the window, its placement (for slices), and, when a rule has a control group, the units of
     * the cohort's corridors and regions that this rollout has not dispatched and that run the
     * previous release.
     */
    CohortTelemetry telemetry(Tx tx, Rollout r, Phase p, List<DeviceProgress> devices, Instant now, List<String> sev1) throws SQLException {
        Map<String, DeviceKpis> reporting = new LinkedHashMap<>();
        Map<String, Map<String, String>> attributes = new LinkedHashMap<>();
        List<String> offline = new ArrayList<>();
        List<String> local = new ArrayList<>();
        List<String> commanded = new ArrayList<>();
        int dispatched = 0;
        boolean slices = r.rules().rules().stream().anyMatch(x -> !x.slices().isEmpty() || x.control() != null);
        for (DeviceProgress d : devices) {
            if (d.phaseIdx() != p.idx() || !d.dispatched()) continue;
            dispatched++;
            window.mean(d.deviceId(), now, r.rules().window()).ifPresentOrElse(k -> reporting.put(d.deviceId(), k), () -> offline.add(d.deviceId()));
            if ("local".equals(d.rollbackKind())) local.add(d.deviceId());
            else if ("commanded".equals(d.rollbackKind())) commanded.add(d.deviceId());
            if (slices) tx.devices().find(d.deviceId()).ifPresent(dev -> attributes.put(d.deviceId(), placement(dev)));
        }
        List<CohortTelemetry.ControlUnit> pool = new ArrayList<>();
        if (r.rules().rules().stream().anyMatch(x -> x.control() != null)) {
            java.util.Set<String> inRollout = new java.util.HashSet<>();
            for (DeviceProgress d : devices) if (d.dispatched()) inRollout.add(d.deviceId());
            java.util.Set<String> corridors = new java.util.HashSet<>();
            java.util.Set<String> regions = new java.util.HashSet<>();
            attributes.values().forEach(a -> {
                corridors.add(a.get("corridor"));
                regions.add(a.get("region"));
            });
            String previous = tx.releases().find(r.release()).map(Release::previousStable).orElse(null);
            for (Device dev : tx.devices().list()) {
                Map<String, String> a = placement(dev);
                if (inRollout.contains(dev.id()) || !(corridors.contains(a.get("corridor")) || regions.contains(a.get("region")))) continue;
                if (previous != null && !previous.equals(running(dev))) continue;
                window.mean(dev.id(), now, r.rules().window()).ifPresent(k -> pool.add(new CohortTelemetry.ControlUnit(dev.id(), a, k)));
            }
        }
        String name = tx.cohorts().find(p.cohortId()).map(Cohort::name).orElse(p.name());
        return new CohortTelemetry(p.cohortId(), name, dispatched, reporting, offline, local, commanded, sev1, attributes, pool);
    }

    private static Map<String, String> placement(Device d) {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("variant", d.record().variant());
        a.put("region", d.record().region() == null ? "" : d.record().region());
        a.put("corridor", d.record().corridor() == null ? "" : d.record().corridor());
        return a;
    }

    /** The release a device last reported booting (versions.baseImage of its state snapshot), or null. */
    static String running(Device d) {
        return running(d.reportedState());
    }

    /** The same, from the snapshot's JSON (null: none reported). */
    static String running(String reportedState) {
        if (reportedState == null) return null;
        try {
            return rsuota.fleet.policy.PolicyJson.MAPPER.readTree(reportedState).path("versions").path("baseImage").asText(null);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return null;
        }
    }

    /**
     * The exit criteria over the whole observation window: each cohort KPI rule over every
     * dispatched device's mean since the phase opened (from the stored samples), against its
     * threshold. A dip that recovered before the window ended still counts; returns what fails, in words.
     */
    static List<String> observationUnmet(Tx tx, Rollout r, Phase p, Instant now) throws SQLException {
        if (p.startedAt() == null) return List.of();
        Map<String, DeviceKpis> means = new LinkedHashMap<>();
        long reports = 0;
        for (var m : tx.kpiSamples().phaseMeans(r.id(), p.idx(), p.startedAt(), now).values()) {
            means.put(m.deviceId(), new DeviceKpis(m.availability(), m.lagMedianMs(), m.lagP95Ms(), m.droppedRatio()));
            reports += m.reports();
        }
        List<String> out = new ArrayList<>();
        for (PauseRule rule : r.rules().rules()) {
            Verdict v = RuleEvaluator.overWindow(rule, means);
            if (v instanceof Verdict.Breach b) {
                out.add("rule " + rule.name() + " over the whole observation window (since " + p.startedAt() + ", " + reports + " reports from "
                        + means.size() + " devices): observed " + String.format(java.util.Locale.ROOT, "%.4f", b.observed()) + " " + rule.unit() + " "
                        + rule.comparison() + " threshold " + rule.limit());
            }
        }
        return out;
    }

    /**
     * Every verdict the gate weighs: each rule over the cohort, and each slice that is conclusive
     * (a slice breach holds the gate; a slice with too few devices holds nothing by itself),
     * keyed "rule" and "rule[variant=rsu-b2]".
     */
    static Map<String, Verdict> gateVerdicts(Rollout r, CohortTelemetry t) {
        Map<String, Verdict> out = new LinkedHashMap<>();
        for (PauseRule rule : r.rules().rules()) {
            for (RuleEvaluator.Judged j : RuleEvaluator.judge(rule, t)) {
                if (j.wholeCohort()) out.put(rule.name(), j.verdict());
                else if (!(j.verdict() instanceof Verdict.Inconclusive)) out.put(rule.name() + "[" + j.sliceKey() + "]", j.verdict());
            }
        }
        return out;
    }

    static Finding finding(Rollout r, PauseRule rule, CohortTelemetry t, RuleEvaluator.Judged j, Instant since, Instant now) {
        Verdict v = j.verdict();
        double observed = v instanceof Verdict.Breach b ? b.observed() : v instanceof Verdict.Clear c ? c.observed() : Double.NaN;
        List<String> offending = v instanceof Verdict.Breach b ? b.offending() : List.of();
        boolean releaseWide = rule instanceof PauseRule.OpenSev1;
        Verdict.ControlComparison control = v.evidence().control();
        double threshold = control != null ? control.limit() : rule.limit();
        String unit = control != null ? (control.compare().equals("ratio") ? "x control" : rule.unit() + " worse than control") : rule.unit();
        return new Finding(rule.name(), r.rules().version(), releaseWide ? null : t.cohortId(), releaseWide ? null : t.cohortName(),
                observed, control != null ? ">" : rule.comparison(), threshold, unit, r.rules().window(), rule.sustained(), since, now,
                v.sample(), rule.minDevices(), offending, releaseWide ? List.of() : t.offline(),
                releaseWide ? t.openSev1() : List.of(), j.slice(), v.evidence().deviceValues(), control);
    }

    static Duration silentAfter(Rollout r) {
        return r.settings().silentAfter();
    }
}
