package rsuota.fleet.domain;

import java.util.Arrays;
import java.util.Locale;

/** The stages of a staged rollout, in the order a release moves through them. */
public enum CohortKind {
    CANARY, PILOT, WAVE;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static CohortKind require(String s, String field) throws FleetException {
        return Arrays.stream(values()).filter(k -> k.wire().equalsIgnoreCase(s == null ? "" : s.trim())).findFirst()
                .orElseThrow(() -> FleetException.invalid(field, "unknown cohort kind '" + s + "' (one of canary, pilot, wave)"));
    }
}
