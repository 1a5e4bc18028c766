package rsuota.fleet.domain;

import java.util.Map;

/**
 * Who is acting: a token's label and role for API calls, or a named controller component
 * (init, the rollout engine) for actions it takes on its own. The audit log records both fields.
 */
public record Principal(String label, Role role) {
    public Principal {
        if (label == null || label.isBlank()) throw new IllegalArgumentException("principal label is empty");
        if (role == null) throw new IllegalArgumentException("principal role is null");
    }

    /** Refuses with FORBIDDEN unless this principal's role is at least {@code needed}. */
    public void require(Role needed, String action) throws FleetException {
        if (!role.atLeast(needed)) {
            throw new FleetException(ErrorCode.FORBIDDEN, "'" + action + "' needs role " + needed.wire()
                    + " or higher; token '" + label + "' has role " + role.wire(),
                    Map.of("required", needed.wire(), "role", role.wire()));
        }
    }

    /** A controller component acting on its own (audited under this name, with the admin role). */
    public static Principal system(String component) {
        return new Principal("system:" + component, Role.ADMIN);
    }
}
