package rsuota.fleet.policy;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A rollout stopped: by a rule (with its findings), by an operator, or by a partial rollback.
 * Resuming closes it, naming who, when and why.
 *
 * @param id           store id
 * @param rolloutId    the rollout
 * @param at           when the pause took effect
 * @param cause        what paused it
 * @param rule         the rule that fired (null unless cause is RULE)
 * @param ruleVersion  version of the rule set (null unless cause is RULE)
 * @param cohortId     the cohort it was judged over, if any
 * @param findings     evidence (empty for an operator's pause)
 * @param links        dashboards and logs for the rollout, from the configured URL templates
 * @param deviceLinks  per offending device: diagnostics and logs links
 * @param actor        who paused: a token label or system:rollout-engine
 * @param reason       why, in words
 * @param resumedAt    when it was resumed (null while it holds)
 * @param resumedBy    who resumed it
 * @param resumeReason why it was resumed
 */
public record PauseEvent(long id, long rolloutId, Instant at, Cause cause, String rule, Integer ruleVersion, Long cohortId,
                         List<Finding> findings, Map<String, String> links, Map<String, Map<String, String>> deviceLinks,
                         String actor, String reason, Instant resumedAt, String resumedBy, String resumeReason) {
    public enum Cause { RULE, OPERATOR, ROLLBACK }

    public PauseEvent {
        findings = List.copyOf(findings);
        links = Map.copyOf(links);
        deviceLinks = Map.copyOf(deviceLinks);
    }

    public boolean open() {
        return resumedAt == null;
    }
}
