package rsuota.agent.download;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import rsuota.agent.activation.Interval;
import rsuota.agent.activation.InvalidWindowException;
import rsuota.agent.activation.MaintenanceWindow;
import rsuota.wire.Bandwidth;

/**
 * The download's bandwidth cap by time of day: a cap that holds {@code otherwise}, and rules that
 * name a weekly window and the cap inside it, e.g. {@code daily 22:00-05:00 unlimited} with
 * {@code 2Mbit/s} otherwise. Windows are {@link MaintenanceWindow}s (the same text, the same
 * DST and midnight handling as activation windows); where rules overlap, the lowest cap applies.
 *
 * <p>Pure: {@link #at} is a function of the instant passed in, so the {@link Throttle} (and tests)
 * decide what "now" is.
 */
public final class BandwidthSchedule {

    /** One time-of-day cap: inside {@code window}, at most {@code cap}. */
    public record Rule(MaintenanceWindow window, Bandwidth cap) {
        @Override
        public String toString() {
            return window + " " + cap;
        }
    }

    /** The cap in force from an instant, and the first instant at which it may change (a window opens or closes). */
    public record Segment(Bandwidth cap, Instant until) {}

    /** How far ahead a change is looked for: a weekly window twice over, plus a DST hour. */
    static final Duration HORIZON = Duration.ofDays(15);
    /** Longer than any window lasts in real time (24 h nominal plus a DST hour), so one open since yesterday is found. */
    static final Duration LOOK_BACK = Duration.ofHours(26);

    private final Bandwidth otherwise;
    private final List<Rule> rules;

    public BandwidthSchedule(Bandwidth otherwise, List<Rule> rules) {
        this.otherwise = otherwise;
        this.rules = List.copyOf(rules);
    }

    public static BandwidthSchedule constant(Bandwidth cap) {
        return new BandwidthSchedule(cap, List.of());
    }

    public static BandwidthSchedule unlimited() {
        return constant(Bandwidth.unlimited());
    }

    public Bandwidth otherwise() {
        return otherwise;
    }

    public List<Rule> rules() {
        return rules;
    }

    /**
     * Parses a rule, {@code [DAYS] HH:MM-HH:MM [ZONE] CAP}: a maintenance-window text (days may be
     * left out for {@code daily}) followed by a {@link Bandwidth}. Throws
     * {@link IllegalArgumentException} naming the bad part.
     */
    public static Rule parseRule(String text, ZoneId defaultZone) {
        String t = text == null ? "" : text.strip();
        int cut = t.lastIndexOf(' ');
        if (cut < 0) throw new IllegalArgumentException("'" + t + "' needs a window and a cap, e.g. 'daily 22:00-05:00 unlimited' or 'Mon-Fri 07:00-09:00 64KiB/s'");
        String windowText = t.substring(0, cut).strip();
        String capText = t.substring(cut + 1);
        // "22:00-05:00 2Mbit/s" reads naturally: no days means every day.
        if (Character.isDigit(windowText.isEmpty() ? 'x' : windowText.charAt(0))) windowText = "daily " + windowText;
        Bandwidth cap;
        try {
            cap = Bandwidth.parse(capText);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cap " + e.getMessage());
        }
        try {
            return new Rule(MaintenanceWindow.parse(windowText, defaultZone), cap);
        } catch (InvalidWindowException e) {
            throw new IllegalArgumentException("window " + e.getMessage());
        }
    }

    /** The cap at {@code t} and until when it holds (at most {@link #HORIZON} ahead). */
    public Segment at(Instant t) {
        Bandwidth cap = null; // the lowest of the rules open at t; none open: otherwise
        Instant until = t.plus(HORIZON);
        for (Rule r : rules) {
            for (Interval i : r.window().occurrences(t.minus(LOOK_BACK), t.plus(HORIZON))) {
                if (i.contains(t)) {
                    cap = cap == null ? r.cap() : lower(cap, r.cap());
                    if (i.end().isBefore(until)) until = i.end();
                } else if (i.start().isAfter(t) && i.start().isBefore(until)) {
                    until = i.start();
                }
            }
        }
        return new Segment(cap == null ? otherwise : cap, until);
    }

    private static Bandwidth lower(Bandwidth a, Bandwidth b) {
        if (a.isUnlimited()) return b;
        if (b.isUnlimited()) return a;
        return a.bytesPerSecond() <= b.bytesPerSecond() ? a : b;
    }

    @Override
    public String toString() {
        if (rules.isEmpty()) return otherwise.toString();
        List<String> parts = new ArrayList<>();
        for (Rule r : rules) parts.add(r.toString());
        return String.join(", ", parts) + ", else " + otherwise;
    }
}
