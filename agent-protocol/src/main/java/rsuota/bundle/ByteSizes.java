package rsuota.bundle;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte sizes as people write them on command lines: {@code 4MiB}, {@code 512KiB}, {@code 1G}, {@code 65536}. */
public final class ByteSizes {
    private ByteSizes() {}

    private static final Pattern SIZE = Pattern.compile("(\\d{1,15})\\s*(|B|KiB|MiB|GiB|K|M|G)", Pattern.CASE_INSENSITIVE);

    /** Parses a size; throws IllegalArgumentException naming the text and an example. */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.trim());
        if (!m.matches()) throw new IllegalArgumentException("cannot read size '" + text + "' (e.g. 4MiB, 512KiB, 65536)");
        long v = Long.parseLong(m.group(1));
        int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
            case "K", "KIB" -> 10;
            case "M", "MIB" -> 20;
            case "G", "GIB" -> 30;
            default -> 0;
        };
        if (v > (Long.MAX_VALUE >> shift)) throw new IllegalArgumentException("size '" + text + "' is too large");
        return v << shift;
    }
}
