package rsuota.fleet.domain;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * Roles in rising order: each one may do everything the roles before it may.
 * viewer reads; operator pauses and rolls back; release-manager handles releases, cohorts,
 * inventory, start, resume and advance; admin issues tokens.
 */
public enum Role {
    VIEWER("viewer"),
    OPERATOR("operator"),
    RELEASE_MANAGER("release-manager"),
    ADMIN("admin");

    private final String wire;

    Role(String wire) {
        this.wire = wire;
    }

    /** The name used on the command line, in the API and in the audit log. */
    public String wire() {
        return wire;
    }

    public boolean atLeast(Role needed) {
        return compareTo(needed) >= 0;
    }

    public static Optional<Role> parse(String s) {
        if (s == null) return Optional.empty();
        String n = s.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        return Arrays.stream(values()).filter(r -> r.wire.equals(n)).findFirst();
    }

    public static Role require(String s, String field) throws FleetException {
        return parse(s).orElseThrow(() -> FleetException.invalid(field,
                "unknown role '" + s + "' (one of viewer, operator, release-manager, admin)"));
    }
}
