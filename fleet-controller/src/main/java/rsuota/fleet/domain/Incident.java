package rsuota.fleet.domain;

import java.time.Instant;

/**
 * An incident reported by an incident tool.
 *
 * @param id         the tool's incident id
 * @param severity   severity
 * @param state      open or resolved
 * @param release    the release it is linked to (null: not linked); not checked against known
 *                   releases, because the tool may name one before the controller knows it
 * @param title      the tool's title
 * @param openedAt   when the controller first heard of it
 * @param updatedAt  last change
 * @param resolvedAt when it was resolved (null while open)
 */
public record Incident(String id, Severity severity, IncidentState state, String release, String title,
                       Instant openedAt, Instant updatedAt, Instant resolvedAt) {}
