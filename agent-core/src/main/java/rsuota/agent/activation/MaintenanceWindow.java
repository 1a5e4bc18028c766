package rsuota.agent.activation;

import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.zone.ZoneOffsetTransition;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A weekly maintenance window in local time, e.g. {@code Mon-Fri 01:00-04:00 Europe/Berlin}.
 *
 * <p>Text form: {@code DAYS HH:MM-HH:MM [ZONE]}.
 * <ul>
 * <li>DAYS: {@code daily} or {@code *}, or a comma list of days and ranges ({@code Mon,Wed,Sat},
 *     {@code Sat-Sun}, {@code Mon-Fri,Sun}; a range may wrap, {@code Fri-Mon}). Days are Mon..Sun
 *     (full English names work too), in any case. A day names the day the window <em>opens</em>.</li>
 * <li>Times are exactly HH:MM; the end may be {@code 24:00}. An end at or before the start spans
 *     midnight: {@code Fri 23:00-02:00} is open on Saturday at 01:00; {@code 01:00-01:00} lasts 24 h.</li>
 * <li>ZONE: an IANA zone id ({@code Europe/Berlin}) or {@code UTC}/an offset; it may be left out only
 *     when the caller supplies a default.</li>
 * </ul>
 *
 * <p>Daylight saving time. The window opens at the first instant at which the local wall clock
 * shows the start time or later, and closes at the first instant it shows the end time or later:
 * <ul>
 * <li>Spring forward (Europe/Berlin 2026-03-29, 02:00 jumps to 03:00): a start of 02:30 does not
 *     exist, so the window opens at 03:00 local (01:00 UTC). A window lying wholly inside the skipped
 *     hour (02:15-02:45) does not open that day.</li>
 * <li>Fall back (2026-10-25, 03:00 returns to 02:00): a time in the repeated hour means its first
 *     occurrence (summer time). The window never opens twice on one day.</li>
 * </ul>
 * So a window's length in real time can differ from its nominal length on those two days.
 */
public record MaintenanceWindow(Set<DayOfWeek> days, LocalTime start, LocalTime end, ZoneId zone) {

    /** The longest a window lasts in real time: 24 h nominal plus a DST hour; used for look-back. */
    static final Duration MAX_LENGTH = Duration.ofHours(26);

    private static final String FORM = "expected \"DAYS HH:MM-HH:MM ZONE\", e.g. \"Mon-Fri 01:00-04:00 Europe/Berlin\"";
    private static final Pattern TIMES = Pattern.compile("(\\d{2}):(\\d{2})-(\\d{2}):(\\d{2})");
    private static final String[] SHORT = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

    public MaintenanceWindow {
        if (days == null || days.isEmpty()) throw new IllegalArgumentException("a maintenance window needs at least one day");
        if (start == null || end == null || zone == null) throw new IllegalArgumentException("start, end and zone are required");
        days = Set.copyOf(EnumSet.copyOf(days));
    }

    /** Parses a window that names its zone. */
    public static MaintenanceWindow parse(String text) {
        return parse(text, null);
    }

    /**
     * Parses a window; {@code defaultZone} (nullable) applies when the text names no zone.
     * Throws {@link InvalidWindowException} naming the bad part.
     */
    public static MaintenanceWindow parse(String text, ZoneId defaultZone) {
        if (text == null || text.isBlank()) throw new InvalidWindowException("maintenance window is empty; " + FORM);
        String[] parts = text.strip().split("\\s+");
        if (parts.length < 2 || parts.length > 3) {
            throw new InvalidWindowException(err(text, "has " + parts.length + " part(s)", FORM));
        }
        Set<DayOfWeek> days = parseDays(text, parts[0]);
        Matcher m = TIMES.matcher(parts[1]);
        if (!m.matches()) throw new InvalidWindowException(err(text, "times \"" + parts[1] + "\" are not HH:MM-HH:MM", FORM));
        LocalTime start = time(text, m.group(1), m.group(2), false);
        LocalTime end = time(text, m.group(3), m.group(4), true);
        ZoneId zone;
        if (parts.length == 3) {
            try {
                zone = ZoneId.of(parts[2]);
            } catch (DateTimeException e) {
                throw new InvalidWindowException(err(text, "time zone \"" + parts[2] + "\" is unknown",
                        "use an IANA zone id like Europe/Berlin, or UTC"));
            }
        } else if (defaultZone != null) {
            zone = defaultZone;
        } else {
            throw new InvalidWindowException(err(text, "names no time zone", "add one, e.g. \"" + text.strip() + " Europe/Berlin\""));
        }
        return new MaintenanceWindow(days, start, end, zone);
    }

    private static String err(String text, String what, String hint) {
        return "maintenance window \"" + text.strip() + "\": " + what + "; " + hint;
    }

    private static LocalTime time(String text, String hh, String mm, boolean isEnd) {
        int h = Integer.parseInt(hh);
        int min = Integer.parseInt(mm);
        if (isEnd && h == 24 && min == 0) return LocalTime.MIDNIGHT; // "24:00": ends at the next midnight
        if (h > 23 || min > 59) {
            throw new InvalidWindowException(err(text, (isEnd ? "end" : "start") + " time " + hh + ":" + mm + " does not exist",
                    "hours are 00-23 (24:00 only as an end), minutes 00-59"));
        }
        return LocalTime.of(h, min);
    }

    private static Set<DayOfWeek> parseDays(String text, String spec) {
        String s = spec.toLowerCase(Locale.ROOT);
        if (s.equals("daily") || s.equals("*")) return EnumSet.allOf(DayOfWeek.class);
        Set<DayOfWeek> out = EnumSet.noneOf(DayOfWeek.class);
        for (String item : spec.split(",", -1)) {
            if (item.isEmpty()) throw new InvalidWindowException(err(text, "days \"" + spec + "\" contain an empty item", "write e.g. Mon,Wed,Sat"));
            String[] range = item.split("-", -1);
            if (range.length > 2) throw new InvalidWindowException(err(text, "day range \"" + item + "\" has more than one '-'", "write e.g. Mon-Fri"));
            DayOfWeek from = day(text, range[0]);
            DayOfWeek to = range.length == 2 ? day(text, range[1]) : from;
            // At most 7 steps: a wrapping range (Fri-Mon) walks Fri, Sat, Sun, Mon.
            for (int i = 0; i < 7; i++) {
                DayOfWeek d = from.plus(i);
                out.add(d);
                if (d == to) break;
            }
        }
        return out;
    }

    private static DayOfWeek day(String text, String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (DayOfWeek d : DayOfWeek.values()) {
            String full = d.name().toLowerCase(Locale.ROOT);
            if (n.equals(full) || n.equals(full.substring(0, 3))) return d;
        }
        throw new InvalidWindowException(err(text, "day \"" + name + "\" is not one of Mon, Tue, Wed, Thu, Fri, Sat, Sun",
                "use days like Mon-Fri or Mon,Wed,Sat, or daily"));
    }

    /** True when the window spans midnight (its end is on the day after it opens). */
    public boolean spansMidnight() {
        return !end.isAfter(start);
    }

    /**
     * Every opening of this window that overlaps {@code [from, to)}, in order. The range may be at
     * most {@value #MAX_RANGE_DAYS} days (keeps the loop bounded; callers search 15 days).
     */
    public List<Interval> occurrences(Instant from, Instant to) {
        if (Duration.between(from, to).toDays() > MAX_RANGE_DAYS) {
            throw new IllegalArgumentException("occurrence range " + from + ".." + to + " is longer than " + MAX_RANGE_DAYS + " days");
        }
        List<Interval> out = new ArrayList<>();
        // Start a day early (and a bit more for zone offsets): an opening that began then may still be open at 'from'.
        LocalDate first = from.minus(MAX_LENGTH).atZone(zone).toLocalDate().minusDays(1);
        LocalDate last = to.atZone(zone).toLocalDate().plusDays(1);
        for (LocalDate d = first; !d.isAfter(last); d = d.plusDays(1)) {
            if (!days.contains(d.getDayOfWeek())) continue;
            Instant s = resolve(LocalDateTime.of(d, start));
            Instant e = resolve(LocalDateTime.of(spansMidnight() ? d.plusDays(1) : d, end));
            if (!e.isAfter(s)) continue; // wholly inside a skipped DST hour: no opening that day
            if (e.isAfter(from) && s.isBefore(to)) out.add(new Interval(s, e));
        }
        return out;
    }

    static final int MAX_RANGE_DAYS = 400;

    /** First instant at which the wall clock shows {@code ldt} or later (see the class comment on DST). */
    private Instant resolve(LocalDateTime ldt) {
        ZoneOffsetTransition t = zone.getRules().getTransition(ldt);
        if (t != null && t.isGap()) return t.getInstant();
        // In an overlap ZonedDateTime picks the earlier offset: the first occurrence of the time.
        return ldt.atZone(zone).toInstant();
    }

    /** The canonical text, e.g. {@code Mon-Fri 01:00-04:00 Europe/Berlin}; it parses back to an equal window. */
    @Override
    public String toString() {
        String endText = end.equals(LocalTime.MIDNIGHT) && !start.equals(LocalTime.MIDNIGHT) ? "24:00" : end.toString();
        return daysText() + " " + start + "-" + endText + " " + zone.getId();
    }

    private String daysText() {
        if (days.size() == 7) return "daily";
        List<String> items = new ArrayList<>();
        int i = 0;
        while (i < 7) {
            if (!days.contains(DayOfWeek.of(i + 1))) {
                i++;
                continue;
            }
            int j = i;
            while (j + 1 < 7 && days.contains(DayOfWeek.of(j + 2))) j++;
            items.add(j == i ? SHORT[i] : SHORT[i] + "-" + SHORT[j]);
            i = j + 1;
        }
        return String.join(",", items);
    }
}
