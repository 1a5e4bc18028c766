package rsuota.fleet.rollout;

import java.time.Duration;
import java.time.Instant;

/**
 * One phase of a rollout: a cohort, how long it is observed, who approves it, and its exit criteria.
 *
 * @param windowEndsAt started + observation (null before start)
 * @param gateMetAt    when its gate was first met (manual phases wait from here)
 */
public record Phase(long rolloutId, int idx, String name, long cohortId, Duration observation, Approval approval,
                    ExitCriteria criteria, PhaseState state, Instant startedAt, Instant windowEndsAt, Instant gateMetAt,
                    Instant endedAt, String approvedBy) {}
