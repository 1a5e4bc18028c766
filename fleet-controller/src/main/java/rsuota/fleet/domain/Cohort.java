package rsuota.fleet.domain;

import java.time.Instant;

/**
 * A set of devices a release goes to in one stage.
 *
 * @param id          store-assigned id
 * @param release     the release version it belongs to
 * @param name        unique per release ("canary", "pilot", "wave-1", ...)
 * @param kind        stage kind
 * @param filter      the filter its members were drawn with (null: members listed explicitly)
 * @param sizeCap     most members it may hold (null: no cap)
 * @param memberCount current number of members
 * @param createdAt   creation time
 * @param createdBy   label of the creating token
 */
public record Cohort(long id, String release, String name, CohortKind kind, CohortFilter filter, Integer sizeCap,
                     int memberCount, Instant createdAt, String createdBy) {}
