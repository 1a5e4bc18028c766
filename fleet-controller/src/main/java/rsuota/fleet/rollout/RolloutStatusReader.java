package rsuota.fleet.rollout;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import rsuota.bundle.ExpectedFetch;
import rsuota.bundle.Manifest;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.Cohort;
import rsuota.fleet.domain.Durations;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Release;
import rsuota.fleet.policy.CohortTelemetry;
import rsuota.fleet.policy.PauseEvent;
import rsuota.fleet.policy.PauseRule;
import rsuota.fleet.policy.PhaseJudge;
import rsuota.fleet.policy.SustainedTimer;
import rsuota.fleet.policy.Verdict;
import rsuota.fleet.store.Tx;
import rsuota.wire.MqttEvent;

/**
 * A rollout as an operator reads it, built in one read transaction: phases with their buckets, KPIs
 * against thresholds (the same judgement the engine makes, without changing a timer), device views,
 * pauses, alerts, blocked devices, the hold (what it waits for and the fleetctl lines that resolve it)
 * and the ETag of its decision state. Reads only.
 */
final class RolloutStatusReader {
    private final RolloutActions actions;

    RolloutStatusReader(RolloutActions actions) {
        this.actions = actions;
    }

    RolloutStatus status(Tx tx, long id, Instant now) throws SQLException, FleetException {
        Rollout r = new RolloutRepository(tx).find(id).orElseThrow(() -> FleetException.notFound("no rollout " + id));
        RolloutRepository repo = new RolloutRepository(tx);
        Release release = RolloutActions.release(tx, r.release());
        List<Phase> phases = repo.phases(id);
        List<DeviceProgress> devices = repo.devices(id);
        Map<String, SustainedTimer> timers = new PauseRepository(tx).timers(id);
        List<String> sev1 = RolloutActions.openSev1(tx, r.release());
        List<RolloutStatus.PhaseView> views = new ArrayList<>();
        Expectations expectations = new Expectations(tx, release.manifest());
        Map<Integer, List<RolloutRepository.SourceCount>> sources = new TreeMap<>();
        for (RolloutRepository.SourceCount c : repo.sources(id)) sources.computeIfAbsent(c.phaseIdx(), k -> new ArrayList<>()).add(c);
        Map<String, MqttEvent.DownloadBytes> downloads = tx.events().downloadBytes(id, r.release());
        for (Phase p : phases) {
            List<DeviceProgress> mine = devices.stream().filter(d -> d.phaseIdx() == p.idx()).toList();
            CohortTelemetry t = actions.telemetry(tx, r, p, devices, now, sev1);
            Map<String, Verdict> verdicts = RolloutActions.gateVerdicts(r, t);
            List<RolloutStatus.Kpi> kpis = new ArrayList<>();
            for (PauseRule rule : r.rules().rules()) {
                for (rsuota.fleet.policy.RuleEvaluator.Judged j : rsuota.fleet.policy.RuleEvaluator.judge(rule, t)) {
                    Verdict v = j.verdict();
                    String key = PhaseJudge.timerKey(rule, p.cohortId(), j);
                    SustainedTimer timer = timers.get(key);
                    Double observed = v instanceof Verdict.Breach b ? Double.valueOf(b.observed()) : v instanceof Verdict.Clear c ? Double.valueOf(c.observed()) : null;
                    var control = v.evidence().control();
                    kpis.add(new RolloutStatus.Kpi(rule.name(), j.slice(), v.kind(), observed, control != null ? ">" : rule.comparison(),
                            control != null ? control.limit() : rule.limit(), control != null ? (control.compare().equals("ratio") ? "x control"
                            : rule.unit() + " worse than control") : rule.unit(), v.sample(), v instanceof Verdict.Inconclusive i ? i.required()
                            : rule.minDevices(), Durations.format(rule.sustained()), timer == null ? null : timer.breachSince(),
                            v instanceof Verdict.Breach b ? b.offending() : List.of(), v.evidence().deviceValues(), control));
                }
            }
            Gate gate = Gate.of(p, mine.stream().filter(d -> d.active() || d.dispatched()).toList(), now, r.settings().silentAfter(), verdicts);
            if (p.state() == PhaseState.ACTIVE && p.windowEndsAt() != null && !now.isBefore(p.windowEndsAt())) {
                gate = gate.with(RolloutActions.observationUnmet(tx, r, p, now));
            }
            Map<String, Integer> buckets = new TreeMap<>();
            gate.buckets().forEach((b, n) -> buckets.put(b.wire(), n));
            List<RolloutStatus.DeviceView> dv = mine.stream().map(d -> new RolloutStatus.DeviceView(d.deviceId(), d.corridor(),
                    Bucket.of(d, now, r.settings().silentAfter()).wire(), d.deviceState(), d.stateReason(), d.rev(), d.dispatchedAt(),
                    d.lastReportAt(), d.activatedAt(), d.held(), d.rollbackKind(), d.rollbackResult(), d.rollbackDeadline(),
                    d.overdueAt() != null, d.local() == null ? null : d.local().by(), d.local() == null ? null : d.local().since(),
                    d.local() == null ? null : d.local().reason(), d.fromRelease())).toList();
            String cohortName = tx.cohorts().find(p.cohortId()).map(Cohort::name).orElse(p.name());
            views.add(new RolloutStatus.PhaseView(p.idx(), p.name(), p.cohortId(), cohortName, p.state().wire(), Durations.format(p.observation()),
                    p.approval().wire(), p.criteria(), p.startedAt(), p.windowEndsAt(), p.gateMetAt(), p.endedAt(), p.approvedBy(), buckets,
                    p.state() == PhaseState.PENDING ? List.of() : gate.unmet(), kpis, dv, bytes(downloads, mine, expectations.of(sources.getOrDefault(p.idx(), List.of())))));
        }
        RolloutSettings s = r.settings();
        List<PauseEvent> pauseEvents = new PauseRepository(tx).list(id);
        RolloutStatus.Hold hold = hold(r, phases, devices, views, pauseEvents, now, tx, sev1);
        return new RolloutStatus(r.id(), r.release(), release.previousStable(), r.state().wire(), r.phaseIndex(), now, DecisionGuard.etag(tx, r),
                new RolloutStatus.Settings(s.corridorCap(), Durations.format(s.silentAfter()), Durations.format(s.rollbackDeadline()), s.window(),
                        s.activateDelay() == null ? null : Durations.format(s.activateDelay()), s.bandwidthCap()),
                r.rules().version(), Durations.format(r.rules().window()), r.attention(), hold, r.createdAt(), r.createdBy(), r.startedAt(), r.endedAt(),
                views, pauseEvents, new AlertRepository(tx).forRollout(id), blocked(tx, release, phases));
    }

    /** What the phase's devices reported their downloads of {@code release} cost, against the manifests' prediction for its units. */
    private static RolloutStatus.Bytes bytes(Map<String, MqttEvent.DownloadBytes> downloads, List<DeviceProgress> devices, Expected expected) {
        int n = 0;
        long fetched = 0;
        long reused = 0;
        for (DeviceProgress d : devices) {
            MqttEvent.DownloadBytes b = downloads.get(d.deviceId());
            if (b == null) continue;
            n++;
            fetched += b.fetched();
            reused += b.reused();
        }
        return new RolloutStatus.Bytes(n, fetched, reused, expected.units(), expected.bytes(), expected.withoutDelta(), expected.sources(),
                expected.from(), expected.payload());
    }

    /** A phase's expected bytes: units, their sum, how many were counted whole, per source release, and the one source if single. */
    private record Expected(int units, long bytes, int withoutDelta, List<RolloutStatus.Source> sources, String from, long payload) {}

    /**
     * What one unit fetches for the release, per release it comes from, from the manifests (the agent's own reuse rule,
     * {@link ExpectedFetch}); each source release's manifest is read and compared once per status read. Without a
     * known pair (no release reported, a release the controller does not have, a format 1 source) the whole payload: the worst case.
     */
    private static final class Expectations {
        private final Tx tx;
        private final Manifest next;
        private final Map<String, RolloutStatus.Source> perRelease = new java.util.HashMap<>();

        Expectations(Tx tx, Manifest next) {
            this.tx = tx;
            this.next = next;
        }

        Expected of(List<RolloutRepository.SourceCount> counts) throws SQLException, FleetException {
            int units = 0;
            int whole = 0;
            long bytes = 0;
            List<RolloutStatus.Source> out = new ArrayList<>();
            for (RolloutRepository.SourceCount c : counts) {
                RolloutStatus.Source one = perUnit(c.fromRelease());
                RolloutStatus.Source s = new RolloutStatus.Source(c.fromRelease(), c.units(), one.bytesPerUnit(), one.withoutDelta());
                out.add(s);
                units += s.units();
                bytes += s.units() * s.bytesPerUnit();
                if (s.withoutDelta() != null) whole += s.units();
            }
            // the same order on SQLite and PostgreSQL (they sort NULL apart): by release, units that reported none last
            out.sort(java.util.Comparator.comparing(RolloutStatus.Source::from, java.util.Comparator.nullsLast(java.util.Comparator.naturalOrder())));
            String from = out.size() == 1 && out.get(0).withoutDelta() == null ? out.get(0).from() : null;
            return new Expected(units, bytes, whole, out, from, next.payloadSize());
        }

        private RolloutStatus.Source perUnit(String from) throws SQLException, FleetException {
            if (from == null) return new RolloutStatus.Source(null, 1, next.payloadSize(), RolloutStatus.Source.NO_RELEASE);
            RolloutStatus.Source known = perRelease.get(from);
            if (known != null) return known;
            Optional<Release> source = tx.releases().find(from);
            RolloutStatus.Source s;
            if (source.isEmpty()) {
                s = new RolloutStatus.Source(from, 1, next.payloadSize(), RolloutStatus.Source.UNKNOWN_RELEASE);
            } else if (source.get().manifest().formatVersion() < 2) {
                s = new RolloutStatus.Source(from, 1, next.payloadSize(), RolloutStatus.Source.FORMAT_1);
            } else {
                s = new RolloutStatus.Source(from, 1, ExpectedFetch.from(source.get().manifest(), next).fetchBytes(), null);
            }
            perRelease.put(from, s);
            return s;
        }
    }

    /** What the rollout waits for, in words, and the fleetctl lines that resolve it. */
    private RolloutStatus.Hold hold(Rollout r, List<Phase> phases, List<DeviceProgress> devices, List<RolloutStatus.PhaseView> views,
                                    List<PauseEvent> pauses, Instant now, Tx tx, List<String> sev1) throws SQLException {
        long id = r.id();
        String rollback = "fleetctl rollout rollback " + id + " --reason R";
        List<String> flagged = devices.stream().filter(DeviceProgress::flagged).map(DeviceProgress::deviceId).toList();
        List<String> clear = flagged.stream().map(d -> "fleetctl rollout clear " + id + " " + d + " --reason R").toList();
        switch (r.state()) {
            case DRAFT:
                return new RolloutStatus.Hold("draft", List.of("a release manager's start"), List.of("fleetctl rollout start " + id));
            case PAUSED: {
                List<String> why = new ArrayList<>();
                List<String> res = new ArrayList<>();
                for (PauseEvent e : pauses) {
                    if (!e.open()) continue;
                    why.add("pause event " + e.id() + ": " + e.reason());
                }
                List<Long> open = pauses.stream().filter(PauseEvent::open).map(PauseEvent::id).toList();
                res.add("fleetctl rollout resume " + id + open.stream().map(x -> " --acknowledge " + x).reduce("", String::concat) + " --reason R");
                res.add(rollback);
                return new RolloutStatus.Hold("paused", why, res);
            }
            case ROLLING_BACK: {
                List<String> pending = devices.stream().filter(d -> d.rollbackRev() != null && d.rollbackResult() == null)
                        .map(d -> d.deviceId() + " (deadline " + d.rollbackDeadline() + ")").toList();
                return new RolloutStatus.Hold("rolling_back", pending.isEmpty() ? List.of("the engine's next tick") : pending.stream()
                        .map(x -> "a healthy boot on the previous release from " + x).toList(), clear);
            }
            case COMPLETED:
            case ROLLED_BACK:
                if (!flagged.isEmpty()) {
                    return new RolloutStatus.Hold("needs_investigation", flagged.stream().map(d -> d + " needs investigation").toList(), clear);
                }
                return new RolloutStatus.Hold("done", List.of(), r.state() == RolloutState.COMPLETED ? List.of(rollback) : List.of());
            default:
                break;
        }
        if (r.phaseIndex() < 0 || r.phaseIndex() >= phases.size()) return new RolloutStatus.Hold("done", List.of(), List.of());
        Phase p = phases.get(r.phaseIndex());
        RolloutStatus.PhaseView v = views.get(r.phaseIndex());
        String advance = "fleetctl rollout advance " + id + " --reason R";
        String extend = "fleetctl rollout extend " + id + " --by 24h --reason R";
        String pause = "fleetctl rollout pause " + id + " --reason R";
        if (p.state() == PhaseState.AWAITING_APPROVAL) {
            return new RolloutStatus.Hold("awaiting_approval", List.of("a release manager's approval of phase " + p.idx() + " ('" + p.name() + "')"),
                    List.of(advance, extend, rollback));
        }
        if (p.windowEndsAt() != null && now.isBefore(p.windowEndsAt())) {
            List<String> w = new ArrayList<>();
            w.add("phase " + p.idx() + " ('" + p.name() + "') observes until " + p.windowEndsAt());
            w.addAll(v.unmet().stream().filter(u -> !u.startsWith("observation window")).toList());
            return new RolloutStatus.Hold("observing", w, List.of(pause, rollback));
        }
        CohortTelemetry t = actions.telemetry(tx, r, p, devices, now, sev1);
        Map<String, Verdict> verdicts = RolloutActions.gateVerdicts(r, t);
        Gate gate = Gate.of(p, devices.stream().filter(d -> d.phaseIdx() == p.idx() && (d.active() || d.dispatched())).toList(), now,
                r.settings().silentAfter(), verdicts).with(RolloutActions.observationUnmet(tx, r, p, now));
        if (Gate.whyNotJudgeable(p, gate, now, verdicts) == null) {
            return new RolloutStatus.Hold("inconclusive", gate.unmet(), List.of(advance, extend, rollback));
        }
        return new RolloutStatus.Hold("gate", gate.unmet(), List.of(extend, pause, rollback));
    }

    /** Devices the release cannot run that its phases' cohort filters matched, with the cohort. */
    static List<RolloutStatus.Blocked> blocked(Tx tx, Release release, List<Phase> phases) throws SQLException {
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
}
