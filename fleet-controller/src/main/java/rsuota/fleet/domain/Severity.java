package rsuota.fleet.domain;

import java.util.Locale;

/** Incident severity; SEV1 is the most severe (an open SEV1 linked to a release pauses its rollouts). */
public enum Severity {
    SEV1, SEV2, SEV3, SEV4;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Accepts what incident tools send: "sev1", "SEV-1", "1", "P1". */
    public static Severity require(String s, String field) throws FleetException {
        String n = s == null ? "" : s.trim().toUpperCase(Locale.ROOT).replace("-", "").replace(" ", "");
        if (n.startsWith("SEV")) n = n.substring(3);
        else if (n.startsWith("P")) n = n.substring(1);
        return switch (n) {
            case "1" -> SEV1;
            case "2" -> SEV2;
            case "3" -> SEV3;
            case "4" -> SEV4;
            default -> throw FleetException.invalid(field, "unknown severity '" + s + "' (sev1..sev4)");
        };
    }
}
