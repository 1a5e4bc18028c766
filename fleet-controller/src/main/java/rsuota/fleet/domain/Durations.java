package rsuota.fleet.domain;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as operators write them: "48h", "7d", "10m", "30s", "250ms", or ISO-8601 ("PT48H").
 * Parsed once, where a request enters; everything past that point holds a {@link Duration}.
 */
public final class Durations {
    private Durations() {}

    private static final Pattern SHORT = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

    public static Duration parse(String text, String field) throws FleetException {
        if (text == null || text.isBlank()) throw FleetException.invalid(field, "is required (e.g. 10m, 48h, 7d or PT10M)");
        String t = text.trim();
        Matcher m = SHORT.matcher(t);
        Duration d;
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            d = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        } else {
            try {
                d = Duration.parse(t);
            } catch (DateTimeParseException e) {
                throw FleetException.invalid(field, "'" + text + "' is not a duration (e.g. 10m, 48h, 7d or PT10M)");
            }
        }
        if (d.isNegative()) throw FleetException.invalid(field, "must not be negative");
        return d;
    }

    public static Duration optional(String text, Duration dflt, String field) throws FleetException {
        return text == null || text.isBlank() ? dflt : parse(text, field);
    }

    /** The short form for humans and the CLI ("48h", "90s"). */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) return "0s";
        if (ms % 86_400_000 == 0) return ms / 86_400_000 + "d";
        if (ms % 3_600_000 == 0) return ms / 3_600_000 + "h";
        if (ms % 60_000 == 0) return ms / 60_000 + "m";
        if (ms % 1000 == 0) return ms / 1000 + "s";
        return ms + "ms";
    }
}
