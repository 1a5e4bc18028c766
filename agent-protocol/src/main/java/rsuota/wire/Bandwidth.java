package rsuota.wire;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A download bandwidth cap in bytes per second, written by people in the units they think in:
 * {@code 2Mbit/s}, {@code 256KiB/s}, {@code 500kB/s}, {@code 1.5 Mbps}, {@code 65536} (bytes/s) or
 * {@code unlimited}. One parser for the agent's {@code agent.conf}, {@code fleetctl} and the REST API,
 * so the three read a value the same way; on the wire ({@link MqttDesiredState#bandwidthCap}) the cap
 * travels as a plain integer of bytes per second.
 *
 * <p>Units: bits ({@code bit}, {@code bps}, any case, with k/M/G = 1000^n) or bytes ({@code B} with
 * k/K/M/G = 1000^n, {@code KiB}/{@code MiB}/{@code GiB} = 1024^n); the {@code /s} may be left out.
 *
 * @param bytesPerSecond the cap, or {@link #UNLIMITED} (0)
 */
public record Bandwidth(long bytesPerSecond) {

    /** No cap. */
    public static final long UNLIMITED = 0;
    /**
     * 16 KiB/s (128 kbit/s): a slower cap would leave the download's stall check (1 KiB/s over its
     * window) and one 64 KiB network read seconds apart; no link worth updating over is slower.
     */
    public static final long MIN_BYTES_PER_SECOND = 16 * 1024;
    /** 10 Gbit/s: above any roadside link; a larger number is a typo (bits for bytes, a stray digit). */
    public static final long MAX_BYTES_PER_SECOND = 1_250_000_000L;

    public static final String FORM = "e.g. 2Mbit/s, 256KiB/s, 500kB/s, 65536 (bytes/s) or unlimited";

    private static final Pattern TEXT = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([A-Za-z]*)(?:/s)?");
    private static final Pattern BITS = Pattern.compile("(?i)([kmg]?)(bit|bps|b/s)");
    private static final Pattern BYTES = Pattern.compile("([kKmMgG]?)(i?)B");

    public Bandwidth {
        if (bytesPerSecond != UNLIMITED) check(bytesPerSecond);
    }

    public static Bandwidth unlimited() {
        return new Bandwidth(UNLIMITED);
    }

    public boolean isUnlimited() {
        return bytesPerSecond == UNLIMITED;
    }

    /** Parses a cap; throws {@link IllegalArgumentException} saying what is wrong with the text and what is accepted. */
    public static Bandwidth parse(String text) {
        String t = text == null ? "" : text.strip();
        if (t.equalsIgnoreCase("unlimited")) return unlimited();
        Matcher m = TEXT.matcher(t);
        if (!m.matches()) throw new IllegalArgumentException("'" + t + "' is not a bandwidth (" + FORM + ")");
        double n = Double.parseDouble(m.group(1));
        String unit = m.group(2);
        double bytes;
        Matcher bits = BITS.matcher(unit);
        Matcher by = BYTES.matcher(unit);
        if (unit.isEmpty()) {
            bytes = n;
        } else if (bits.matches()) {
            bytes = n * power(bits.group(1), 1000) / 8;
        } else if (by.matches()) {
            bytes = n * power(by.group(1), by.group(2).isEmpty() ? 1000 : 1024);
        } else {
            throw new IllegalArgumentException("'" + t + "': unknown unit '" + unit + "' (bits: bit/s, kbit/s, Mbit/s, Mbps; bytes: B/s, kB/s, KiB/s, MB/s, MiB/s)");
        }
        if (n == 0) throw new IllegalArgumentException("'" + t + "': a cap of 0 would never download; write 'unlimited' for no cap");
        long b = Math.round(bytes);
        if (bytes > MAX_BYTES_PER_SECOND || b < MIN_BYTES_PER_SECOND) {
            throw new IllegalArgumentException("'" + t + "' is " + b + " bytes/s; " + range());
        }
        return new Bandwidth(b);
    }

    /** Null when {@code bytesPerSecond} is a valid cap, else why not (for the wire codec and the REST layer). */
    public static String problem(long bytesPerSecond) {
        if (bytesPerSecond >= MIN_BYTES_PER_SECOND && bytesPerSecond <= MAX_BYTES_PER_SECOND) return null;
        return bytesPerSecond + " bytes/s is outside the allowed range; " + range();
    }

    private static void check(long bytesPerSecond) {
        String p = problem(bytesPerSecond);
        if (p != null) throw new IllegalArgumentException(p);
    }

    private static String range() {
        return "a cap must be between " + MIN_BYTES_PER_SECOND + " (16 KiB/s) and " + MAX_BYTES_PER_SECOND + " (10 Gbit/s) bytes/s, or unlimited";
    }

    private static double power(String prefix, int base) {
        return switch (prefix.toLowerCase(Locale.ROOT)) {
            case "k" -> base;
            case "m" -> (double) base * base;
            case "g" -> (double) base * base * base;
            default -> 1;
        };
    }

    /** Readable: {@code unlimited}, {@code 256 KiB/s}, {@code 2 MiB/s}, or bytes/s with the bit rate, e.g. {@code 250000 B/s (2 Mbit/s)}. */
    @Override
    public String toString() {
        long b = bytesPerSecond;
        if (b == UNLIMITED) return "unlimited";
        if (b % (1024 * 1024) == 0) return b / (1024 * 1024) + " MiB/s";
        if (b % 1024 == 0) return b / 1024 + " KiB/s";
        double mbit = b * 8 / 1e6;
        return b + " B/s (" + (mbit == Math.rint(mbit) ? Long.toString((long) mbit) : String.format(Locale.US, "%.3f", mbit)) + " Mbit/s)";
    }
}
