package rsuota.fleet.rollout;

import java.time.Instant;
import java.util.List;
import rsuota.fleet.policy.RuleSet;

/**
 * A release going out in ordered phases.
 *
 * @param id         store id
 * @param release    release version
 * @param state      where it is
 * @param phaseIndex the current phase (0-based; -1 before start)
 * @param settings   corridor cap, silence timeout, rollback deadline, window
 * @param rules      the pause rules it runs with
 * @param attention  what currently needs a human (inconclusive rules, unmet gates, overdue rollbacks)
 */
public record Rollout(long id, String release, RolloutState state, int phaseIndex, RolloutSettings settings, RuleSet rules,
                      List<String> attention, Instant createdAt, String createdBy, Instant startedAt, Instant endedAt, Instant updatedAt) {
    public Rollout {
        attention = attention == null ? List.of() : List.copyOf(attention);
    }

    public String target() {
        return "rollout:" + id;
    }
}
