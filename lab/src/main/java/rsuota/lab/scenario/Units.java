package rsuota.lab.scenario;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations and sizes as scenario files write them ("250ms", "5s", "2m"; "64KiB", "1MiB", "300000"). */
public final class Units {
    private Units() {}

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,12})\\s*(B|KiB|MiB|GiB)?");

    /** Parses "250ms", "5s", "2m", "1h"; throws IllegalArgumentException with an example otherwise. */
    public static Duration duration(String text) {
        Matcher m = DURATION.matcher(text == null ? "" : text.trim());
        if (!m.matches()) throw new IllegalArgumentException("'" + text + "' is not a duration (e.g. 250ms, 5s, 2m)");
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    /** Parses "64KiB", "1MiB", "300000" (bytes); throws IllegalArgumentException with an example otherwise. */
    public static long size(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.trim());
        if (!m.matches()) throw new IllegalArgumentException("'" + text + "' is not a size (e.g. 300000, 64KiB, 1MiB)");
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "B" : m.group(2);
        return switch (unit) {
            case "KiB" -> n << 10;
            case "MiB" -> n << 20;
            case "GiB" -> n << 30;
            default -> n;
        };
    }

    /** The agent's and controller's duration syntax: whole milliseconds always parse in both. */
    public static String config(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 == 0) return ms / 1000 + "s";
        return ms + "ms";
    }

    /** For people: "1.5 s", "250 ms", "2 min 5 s". */
    public static String human(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) return ms + " ms";
        if (ms < 60_000) return (ms % 1000 == 0 ? Long.toString(ms / 1000) : String.format(Locale.ROOT, "%.1f", ms / 1000.0)) + " s";
        return ms / 60_000 + " min " + (ms % 60_000) / 1000 + " s";
    }

    /** For people: "256 KiB", "1.5 MiB", "812 B". */
    public static String bytes(long n) {
        if (n < 1024) return n + " B";
        if (n < 1024 * 1024) return String.format(Locale.ROOT, n % 1024 == 0 ? "%.0f KiB" : "%.1f KiB", n / 1024.0);
        return String.format(Locale.ROOT, "%.2f MiB", n / (1024.0 * 1024.0));
    }
}
