package rsuota.fleet.domain;

import java.time.Instant;

/** A device's membership of a cohort; a device holds at most one per release (store-enforced). */
public record CohortMember(long cohortId, String deviceId, String release, Instant addedAt) {}
