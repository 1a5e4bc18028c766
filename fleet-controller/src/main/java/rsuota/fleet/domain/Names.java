package rsuota.fleet.domain;

import java.util.regex.Pattern;

/**
 * The shapes identifiers may take. They end up in URLs, MQTT topics ({@code rsu/v1/dev/{id}/...}),
 * file names and log lines, so they are restricted to characters that need no escaping anywhere.
 */
public final class Names {
    private Names() {}

    /** Device ids: also an MQTT topic level, so no '/', '+' or '#'. */
    public static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
    /** Variants, regions, corridors, sites, tags, cohort names, release versions. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,63}");
    /** Free text that is still one line (labels, titles, reasons). */
    public static final int MAX_TEXT = 1000;

    public static String requireDeviceId(String v, String field) throws FleetException {
        if (v == null || !DEVICE_ID.matcher(v).matches()) {
            throw FleetException.invalid(field, "'" + v + "' is not a device id (letters, digits, . _ : -; up to 128)");
        }
        return v;
    }

    public static String requireName(String v, String field) throws FleetException {
        if (v == null || !NAME.matcher(v).matches()) {
            throw FleetException.invalid(field, "'" + v + "' is not a valid name (letters, digits, . _ + -; up to 64)");
        }
        return v;
    }

    /** Null stays null (the field is optional); anything else must be a valid name. */
    public static String optionalName(String v, String field) throws FleetException {
        return v == null || v.isEmpty() ? null : requireName(v, field);
    }

    public static String optionalText(String v, String field) throws FleetException {
        if (v == null) return null;
        if (v.length() > MAX_TEXT) throw FleetException.invalid(field, "longer than " + MAX_TEXT + " characters");
        if (v.chars().anyMatch(c -> c < 0x20 && c != '\t')) throw FleetException.invalid(field, "contains control characters or line breaks");
        return v;
    }

    public static String requireText(String v, String field) throws FleetException {
        if (v == null || v.isBlank()) throw FleetException.invalid(field, "is required");
        return optionalText(v, field);
    }
}
