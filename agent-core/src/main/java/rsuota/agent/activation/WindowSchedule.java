package rsuota.agent.activation;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * When activation is allowed: inside any of the device's maintenance windows, narrowed by the
 * controller's order (if it gives one) to after its {@code activateAfter} instant and inside its own
 * window. The allowed set is the intersection of those.
 *
 * <p>Pure functions of the instant passed in: nothing here reads a clock, so the engine (and tests)
 * decide what "now" is. A window missed while the box was offline or off is simply in the past:
 * the next opening is computed from "now", there is no catch-up.
 *
 * <p>Searches are bounded: {@link #nextOpening} looks {@link #HORIZON} ahead of the later of now and
 * activateAfter; {@link #current} looks back at most {@link #LOOK_BACK}, so the start of an opening
 * made of back-to-back windows (e.g. {@code daily 00:00-24:00}) is reported no earlier than that,
 * and its end no later than {@link #HORIZON} ahead.
 */
public final class WindowSchedule {

    /** Covers the sparsest useful schedule (once a week) twice over, plus a DST shift. */
    public static final Duration HORIZON = Duration.ofDays(15);
    /** Longer than any one window can last, so an opening that began before "now" is found. */
    public static final Duration LOOK_BACK = Duration.ofDays(2);

    private final List<MaintenanceWindow> windows; // empty = any time
    private final Instant activateAfter;           // null = no lower bound
    private final MaintenanceWindow orderWindow;   // null = not narrowed

    private WindowSchedule(List<MaintenanceWindow> windows, Instant activateAfter, MaintenanceWindow orderWindow) {
        this.windows = List.copyOf(windows);
        this.activateAfter = activateAfter;
        this.orderWindow = orderWindow;
    }

    /** The device's windows; at least one (use {@link #anyTime()} for a device without windows). */
    public static WindowSchedule of(List<MaintenanceWindow> deviceWindows) {
        if (deviceWindows == null || deviceWindows.isEmpty()) {
            throw new IllegalArgumentException("no maintenance windows given; use WindowSchedule.anyTime() for a device without windows");
        }
        return new WindowSchedule(deviceWindows, null, null);
    }

    /** No device restriction (a device with no windows configured, or a technician's "activate now"). */
    public static WindowSchedule anyTime() {
        return new WindowSchedule(List.of(), null, null);
    }

    /**
     * This schedule narrowed by an order. Either argument may be null (not narrowed by it); passing
     * both null returns an equal schedule.
     */
    public WindowSchedule narrowedBy(Instant activateAfter, MaintenanceWindow orderWindow) {
        return new WindowSchedule(windows, activateAfter, orderWindow);
    }

    public List<MaintenanceWindow> deviceWindows() {
        return windows;
    }

    public Optional<Instant> activateAfter() {
        return Optional.ofNullable(activateAfter);
    }

    public Optional<MaintenanceWindow> orderWindow() {
        return Optional.ofNullable(orderWindow);
    }

    /** True when activation is allowed at {@code t}. */
    public boolean isOpen(Instant t) {
        return current(t).isPresent();
    }

    /** The allowed interval containing {@code t} (touching windows merged), or empty when closed. */
    public Optional<Interval> current(Instant t) {
        for (Interval i : allowed(t.minus(LOOK_BACK), t.plus(HORIZON))) {
            if (i.contains(t)) return Optional.of(i);
        }
        return Optional.empty();
    }

    /**
     * When activation is next allowed: {@code now} itself when open, else the start of the next
     * allowed interval. Empty when nothing opens within {@link #HORIZON} of
     * max(now, activateAfter) (e.g. an order window that never meets a device window).
     */
    public Optional<Instant> nextOpening(Instant now) {
        Instant from = activateAfter != null && activateAfter.isAfter(now) ? activateAfter : now;
        for (Interval i : allowed(from.minus(LOOK_BACK), from.plus(HORIZON))) {
            if (i.end().isAfter(from)) return Optional.of(i.start().isAfter(from) ? i.start() : from);
        }
        return Optional.empty();
    }

    /**
     * For the status and logs: which window it is in or waits for, e.g.
     * {@code waiting for Mon-Fri 01:00-04:00 Europe/Berlin, next opens 2026-11-30T01:00+01:00}.
     */
    public String describe(Instant now) {
        Optional<Interval> cur = current(now);
        if (cur.isPresent()) {
            // Without any window the interval's end is only the search horizon: do not show it as a closing time.
            if (windows.isEmpty() && orderWindow == null) return "open: any time" + narrowing();
            Interval i = cur.get();
            return "open: " + label(now) + ", closes " + format(i.end(), zoneFor(now)) + narrowing();
        }
        Optional<Instant> next = nextOpening(now);
        if (next.isEmpty()) {
            return "no maintenance window opens within " + HORIZON.toDays() + " days of " + format(now, zoneFor(now))
                    + " (device: " + deviceText() + ")" + narrowing();
        }
        Instant at = next.get();
        return "waiting for " + label(at) + ", next opens " + format(at, zoneFor(at)) + narrowing();
    }

    /** The merged allowed intervals overlapping {@code [from, to)}. */
    List<Interval> allowed(Instant from, Instant to) {
        List<Interval> set;
        if (windows.isEmpty()) {
            set = List.of(new Interval(from, to));
        } else {
            List<Interval> all = new ArrayList<>();
            for (MaintenanceWindow w : windows) all.addAll(w.occurrences(from, to));
            set = Interval.merge(all);
        }
        if (orderWindow != null) set = Interval.intersect(set, Interval.merge(orderWindow.occurrences(from, to)));
        if (activateAfter != null) {
            Instant farFuture = (to.isAfter(activateAfter) ? to : activateAfter).plus(HORIZON);
            set = Interval.intersect(set, List.of(new Interval(activateAfter, farFuture)));
        }
        return set;
    }

    /** The device window(s) open at {@code t}, or the device text when none is (any-time schedules). */
    private String label(Instant t) {
        List<String> open = new ArrayList<>();
        for (MaintenanceWindow w : windows) {
            for (Interval i : w.occurrences(t, t.plusNanos(1))) {
                if (i.contains(t)) {
                    open.add(w.toString());
                    break;
                }
            }
        }
        if (!open.isEmpty()) return String.join(" + ", open);
        if (orderWindow != null) return "order window " + orderWindow;
        if (activateAfter != null) return "activateAfter " + activateAfter;
        return "any time";
    }

    private ZoneId zoneFor(Instant t) {
        for (MaintenanceWindow w : windows) {
            for (Interval i : w.occurrences(t, t.plusNanos(1))) if (i.contains(t)) return w.zone();
        }
        if (!windows.isEmpty()) return windows.get(0).zone();
        return orderWindow != null ? orderWindow.zone() : ZoneOffset.UTC;
    }

    private String deviceText() {
        return windows.isEmpty() ? "any time" : windows.stream().map(MaintenanceWindow::toString).collect(Collectors.joining("; "));
    }

    private String narrowing() {
        List<String> parts = new ArrayList<>();
        if (activateAfter != null) parts.add("after " + activateAfter);
        if (orderWindow != null) parts.add("window " + orderWindow);
        return parts.isEmpty() ? "" : " (order: " + String.join(", ", parts) + ")";
    }

    private static String format(Instant t, ZoneId zone) {
        return t.atZone(zone).toOffsetDateTime().toString();
    }

    @Override
    public String toString() {
        return "WindowSchedule[" + deviceText() + narrowing() + "]";
    }
}
