package rsuota.fleet.rollout;

import java.sql.SQLException;
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
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.Cohort;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Durations;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Names;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Release;
import rsuota.fleet.policy.PauseRule;
import rsuota.fleet.policy.RuleSet;
import rsuota.fleet.store.Tx;

/**
 * A new rollout's plan, checked and stored in the caller's write transaction: its phases (listed, or
 * the default plan from the release's cohorts: canaries, pilots, waves, with scaled observation
 * windows), each cohort in one rollout only, control groups in reach, one audit entry.
 */
final class RolloutPlanner {
    /** Default plan durations, from the story: canary 48 h, pilot 7 days, each wave a day. */
    static final Duration CANARY = Duration.ofHours(48);
    static final Duration PILOT = Duration.ofDays(7);
    static final Duration WAVE = Duration.ofDays(1);

    private RolloutPlanner() {}

    /** Inserts the rollout, its phases and the audit entry; returns its id. */
    static long insert(Tx tx, AuditLog audit, Principal who, Rollouts.NewRollout req, String release, String reason, double scale,
                       RolloutSettings settings, RuleSet rules, Instant now) throws SQLException, FleetException {
        Release r = RolloutActions.release(tx, release);
        RolloutActions.notWithdrawn(tx, release, "be created");
        List<Rollouts.NewPhase> plan = req.phases() == null || req.phases().isEmpty() ? defaultPlan(tx, release, scale) : req.phases();
        if (plan.isEmpty()) throw FleetException.invalid("phases", "release " + release + " has no cohorts: create cohorts first or list phases");
        RolloutRepository repo = new RolloutRepository(tx);
        long rid = repo.insert(release, settings, rules, now, who.label());
        Set<Long> seen = new HashSet<>();
        List<Map<String, Object>> detailPhases = new ArrayList<>();
        for (int i = 0; i < plan.size(); i++) {
            Rollouts.NewPhase p = plan.get(i);
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
        controlsInReach(tx, rules, repo.phases(rid));
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("release", release);
        detail.put("phases", detailPhases);
        detail.put("rulesVersion", rules.version());
        if (settings.corridorCap() != null) detail.put("corridorCap", settings.corridorCap());
        List<RolloutStatus.Blocked> blocked = RolloutStatusReader.blocked(tx, r, repo.phases(rid));
        if (!blocked.isEmpty()) detail.put("blocked", blocked.stream().map(b -> b.device() + ":" + b.variant()).toList());
        audit.append(tx, who, "rollout.create", "rollout:" + rid, reason, detail);
        return rid;
    }

    /**
     * A rule with a control group needs units to compare with: some registered unit of the same
     * corridor (or region) as the rollout's cohorts that is in none of them. Otherwise the rule
     * could never judge, and the rollout is refused, naming the rule and the places.
     */
    private static void controlsInReach(Tx tx, RuleSet rules, List<Phase> phases) throws SQLException, FleetException {
        Set<String> members = new HashSet<>();
        for (Phase p : phases) for (var m : tx.cohorts().members(p.cohortId())) members.add(m.deviceId());
        List<rsuota.fleet.domain.Device> all = null;
        for (int i = 0; i < rules.rules().size(); i++) {
            PauseRule rule = rules.rules().get(i);
            if (rule.control() == null) continue;
            if (all == null) all = tx.devices().list();
            String by = rule.control().by();
            Set<String> places = new java.util.TreeSet<>();
            for (rsuota.fleet.domain.Device d : all) {
                String p = by.equals("corridor") ? d.record().corridor() : d.record().region();
                if (members.contains(d.id()) && p != null && !p.isEmpty()) places.add(p);
            }
            long reach = all.stream().filter(d -> !members.contains(d.id()))
                    .filter(d -> places.contains(by.equals("corridor") ? d.record().corridor() : d.record().region())).count();
            if (reach == 0) {
                throw FleetException.invalid("rules.rules[" + i + "].control", "rule " + rule.name() + " compares with units of the same " + by
                        + " outside the rollout, but no registered unit of " + by + " " + places + " is outside its cohorts: the control group"
                        + " would be empty (compare by region, or leave units of these " + by + "s out of the cohorts)");
            }
        }
    }

    private static Cohort cohort(Tx tx, String release, Rollouts.NewPhase p, int i) throws SQLException, FleetException {
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

    private static List<Rollouts.NewPhase> defaultPlan(Tx tx, String release, double scale) throws SQLException {
        List<Cohort> cohorts = new ArrayList<>(tx.cohorts().list(release));
        cohorts.sort(Comparator.comparing(Cohort::kind).thenComparing(Cohort::name));
        List<Rollouts.NewPhase> out = new ArrayList<>();
        for (Cohort c : cohorts) out.add(new Rollouts.NewPhase(c.id(), null, null, scaled(defaultObservation(c.kind()), scale), null, null));
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
