package rsuota.fleet.rollout;

import java.util.Locale;
import rsuota.fleet.domain.FleetException;

/** Who moves a phase on once its gate is met: the engine by itself, or a release manager's {@code advance}. */
public enum Approval {
    AUTO, MANUAL;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Approval require(String s, String field) throws FleetException {
        if (s == null) return null;
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "manual" -> MANUAL;
            default -> throw FleetException.invalid(field, "'" + s + "' is not an approval (auto or manual)");
        };
    }
}
