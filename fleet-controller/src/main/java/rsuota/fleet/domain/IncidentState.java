package rsuota.fleet.domain;

import java.util.Locale;

/** Incident state as the incident tool reports it. */
public enum IncidentState {
    OPEN, RESOLVED;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Accepts "open"/"triggered"/"acknowledged" as open and "resolved"/"closed" as resolved. */
    public static IncidentState require(String s, String field) throws FleetException {
        String n = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "open", "opened", "triggered", "acknowledged" -> OPEN;
            case "resolved", "closed" -> RESOLVED;
            default -> throw FleetException.invalid(field, "unknown incident state '" + s + "' (open or resolved)");
        };
    }
}
