package rsuota.fleet.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import rsuota.fleet.domain.Cohort;
import rsuota.fleet.domain.Durations;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Release;
import rsuota.fleet.policy.PauseRule;
import rsuota.fleet.policy.PolicyJson;
import rsuota.fleet.store.Tx;

/**
 * A release's notes, rendered from the stored data only (the story's Definition of Done): what it
 * is, which variants it supports and which it leaves out (variants of the fleet it does not list,
 * and the units its cohorts excluded as incompatible), and each rollout's plan: phases, cohort
 * sizes, observation windows, approvals, exit criteria, pause rules with thresholds.
 */
public record ReleaseNotes(String release, String previousStable, long securityVersion, Map<String, String> components, String notes,
                           String signer, List<String> supportedVariants, List<BlockedVariant> blockedVariants,
                           List<RolloutStatus.Blocked> blockedDevices, List<Plan> rollouts) {

    /** A variant present in the fleet that the release does not support, with how many units have it. */
    public record BlockedVariant(String variant, long devices) {}

    public record Plan(long rollout, String state, String ruleWindow, int rulesVersion, RolloutStatus.Settings settings, List<PlanPhase> phases,
                       List<PlanRule> rules) {}

    public record PlanPhase(int index, String name, String cohort, String kind, int devices, String observation, String approval,
                            ExitCriteria criteria) {}

    /** A rule as a reader states it: "availability < 0.995 ratio for 10m, at least 1 reporting device". */
    public record PlanRule(String rule, String comparison, double threshold, String unit, String sustained, int minDevices) {}

    static ReleaseNotes of(Tx tx, Release r, List<Rollout> rollouts) throws SQLException, FleetException {
        Map<String, String> components = new TreeMap<>();
        try {
            JsonNode c = PolicyJson.MAPPER.readTree(r.manifestJson()).path("components");
            c.fields().forEachRemaining(e -> components.put(e.getKey(), e.getValue().asText()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new FleetException(rsuota.fleet.domain.ErrorCode.STORE_FAILURE, "release " + r.version() + ": stored manifest is not JSON");
        }
        List<BlockedVariant> blocked = new ArrayList<>();
        tx.devices().countByVariant().forEach((v, n) -> {
            if (!r.supports(v)) blocked.add(new BlockedVariant(v, n));
        });
        List<Plan> plans = new ArrayList<>();
        List<RolloutStatus.Blocked> blockedDevices = new ArrayList<>();
        for (Rollout ro : rollouts) {
            RolloutRepository repo = new RolloutRepository(tx);
            List<Phase> phases = repo.phases(ro.id());
            List<PlanPhase> pp = new ArrayList<>();
            for (Phase p : phases) {
                Cohort c = tx.cohorts().find(p.cohortId()).orElseThrow();
                pp.add(new PlanPhase(p.idx(), p.name(), c.name(), c.kind().name().toLowerCase(Locale.ROOT), tx.cohorts().members(c.id()).size(),
                        Durations.format(p.observation()), p.approval().wire(), p.criteria()));
            }
            List<PlanRule> rules = new ArrayList<>();
            for (PauseRule rule : ro.rules().rules()) {
                rules.add(new PlanRule(rule.name(), rule.comparison(), rule.limit(), rule.unit(), Durations.format(rule.sustained()), rule.minDevices()));
            }
            RolloutSettings s = ro.settings();
            plans.add(new Plan(ro.id(), ro.state().wire(), Durations.format(ro.rules().window()), ro.rules().version(),
                    new RolloutStatus.Settings(s.corridorCap(), Durations.format(s.silentAfter()), Durations.format(s.rollbackDeadline()), s.window(),
                            s.activateDelay() == null ? null : Durations.format(s.activateDelay()), s.bandwidthCap()), pp, rules));
            for (RolloutStatus.Blocked b : RolloutStatusReader.blocked(tx, r, phases)) if (!blockedDevices.contains(b)) blockedDevices.add(b);
        }
        return new ReleaseNotes(r.version(), r.previousStable(), r.securityVersion(), components, r.notes(), r.signer(), r.compatible(), blocked,
                blockedDevices, plans);
    }

    /** The same content as Markdown, for a change ticket or a wiki page. */
    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# Release ").append(release).append("\n\n");
        b.append("- previous stable: ").append(previousStable == null ? "none (no rollback target)" : previousStable).append('\n');
        b.append("- security version: ").append(securityVersion).append('\n');
        components.forEach((k, v) -> b.append("- ").append(k).append(": ").append(v).append('\n'));
        b.append("- signed by: ").append(signer).append('\n');
        if (notes != null && !notes.isBlank()) b.append('\n').append(notes.strip()).append('\n');
        b.append("\n## Variants\n\n");
        b.append("Supported: ").append(String.join(", ", supportedVariants)).append("\n\n");
        if (blockedVariants.isEmpty() && blockedDevices.isEmpty()) {
            b.append("Blocked: none (every variant in the fleet is supported).\n");
        } else {
            b.append("Blocked:\n");
            for (BlockedVariant v : blockedVariants) b.append("- variant ").append(v.variant()).append(" (").append(v.devices()).append(" units in the fleet)\n");
            for (RolloutStatus.Blocked d : blockedDevices) {
                b.append("- unit ").append(d.device()).append(" (").append(d.variant()).append(") excluded from cohort ").append(d.cohort()).append('\n');
            }
        }
        b.append("\n## Rollout plan\n");
        if (rollouts.isEmpty()) b.append("\nNo rollout of this release has been created.\n");
        for (Plan p : rollouts) {
            b.append("\n### Rollout ").append(p.rollout()).append(" (").append(p.state()).append(")\n\n");
            b.append("| phase | cohort | kind | units | observation | approval | exit criteria |\n|---|---|---|---|---|---|---|\n");
            for (PlanPhase ph : p.phases()) {
                b.append("| ").append(ph.index()).append(' ').append(ph.name()).append(" | ").append(ph.cohort()).append(" | ").append(ph.kind())
                        .append(" | ").append(ph.devices()).append(" | ").append(ph.observation()).append(" | ").append(ph.approval()).append(" | success >= ")
                        .append(ph.criteria().minSuccessRatio()).append(", failed <= ").append(ph.criteria().maxFailed()).append(", silent <= ")
                        .append(ph.criteria().maxSilent()).append(" |\n");
            }
            b.append("\nPause rules (rule set v").append(p.rulesVersion()).append(", KPIs averaged per unit over ").append(p.ruleWindow()).append("):\n\n");
            b.append("| rule | fires when | sustained | min. reporting units |\n|---|---|---|---|\n");
            for (PlanRule r : p.rules()) {
                b.append("| ").append(r.rule()).append(" | ").append(r.unit().equals("incidents") ? "any open Sev1 incident"
                        : "observed " + r.comparison() + " " + fmt(r.threshold()) + " " + r.unit()).append(" | ").append(r.sustained()).append(" | ")
                        .append(r.minDevices()).append(" |\n");
            }
            RolloutStatus.Settings s = p.settings();
            b.append("\nSettings: silent after ").append(s.silentAfter()).append(", rollback deadline ").append(s.rollbackDeadline())
                    .append(s.corridorCap() == null ? "" : ", at most " + s.corridorCap() + " units in trial per corridor")
                    .append(s.window() == null ? "" : ", maintenance window " + s.window()).append(".\n");
        }
        return b.toString();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e12 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.4f", v).replaceAll("0+$", "");
    }
}
