package rsuota.lab.run;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything that happened in a run, in order, stamped with lab time (milliseconds since the lab
 * clock started; setup events before that are negative). What the live view scrolls, what the
 * report draws. Thread-safe: devices, the runner and scheduled faults all add to it.
 */
public final class Timeline {
    /**
     * @param t       lab time in milliseconds
     * @param at      wall-clock instant
     * @param kind    lab | step | rollout | phase | pause | device | power | reboot | boot | fault | check
     * @param subject device id, release, or "lab"
     * @param text    what happened, in words
     * @param seq     position in the timeline, from 0
     */
    public record Event(long t, Instant at, String kind, String subject, String text, int seq) {}

    /** Bounded: a runaway fault loop cannot fill the heap; the report says if it overflowed. */
    static final int MAX_EVENTS = 20_000;

    private final Clock clock;
    private final List<Event> events = new ArrayList<>();
    private volatile Instant zero;
    private boolean overflowed;

    public Timeline(Clock clock) {
        this.clock = clock;
        this.zero = clock.instant();
    }

    /** Starts the lab clock: from now on "at": "5s" means five seconds from here. */
    public void startClock() {
        zero = clock.instant();
    }

    public Instant zero() {
        return zero;
    }

    public Duration elapsed() {
        return Duration.between(zero, clock.instant());
    }

    public long labMillis(Instant at) {
        return Duration.between(zero, at).toMillis();
    }

    public synchronized Event add(String kind, String subject, String text) {
        Instant now = clock.instant();
        Event e = new Event(labMillis(now), now, kind, subject, text, events.size());
        if (events.size() < MAX_EVENTS) events.add(e);
        else overflowed = true;
        return e;
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** Events from position {@code seq} on (a plain log prints each once). */
    public synchronized List<Event> from(int seq) {
        return seq >= events.size() ? List.of() : List.copyOf(events.subList(Math.max(0, seq), events.size()));
    }

    /** The last {@code n} events (the live view's tail). */
    public synchronized List<Event> tail(int n) {
        return List.copyOf(events.subList(Math.max(0, events.size() - n), events.size()));
    }

    public synchronized boolean overflowed() {
        return overflowed;
    }
}
