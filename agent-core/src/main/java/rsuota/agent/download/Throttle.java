package rsuota.agent.download;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import rsuota.wire.Bandwidth;

/**
 * The download's bandwidth cap, as a token bucket in front of the network reads.
 *
 * <p>The bucket fills at the cap in force ({@link BandwidthSchedule#at}) and holds at most
 * {@link #BURST} of it. The download pays for each piece before asking the server for it
 * ({@link #take}); a piece larger than what the bucket holds leaves it in debt, and the piece is
 * asked for only once the debt is paid. So by any instant at most {@code cap * t + cap * BURST}
 * bytes were asked for, and any 1-second window sees at most the cap, a quarter second's worth
 * and the one piece in flight at its start. The bucket starts empty; idle time refills it only up
 * to {@link #BURST}, so short pauses between requests cost nothing of the average rate and buy
 * no more than a quarter second's burst later.
 *
 * <p>The cap follows the schedule: when a window opens or closes the bucket is first filled at
 * the old cap up to that instant, then runs at the new one (debt carries over and is paid at the new
 * cap; entering an unlimited stretch forgives it). A wait never reaches past the next change, so a
 * download that waits out a debt at 2 Mbit/s speeds up at 22:00 sharp.
 *
 * <p>Time comes from the {@link Clock} only; this class never sleeps. Tokens are kept in exact
 * integer units (byte-nanoseconds per second), so the accounting is exact for any clock step.
 * Thread-safe.
 */
public final class Throttle {

    /**
     * The bucket's depth in time at the current cap: absorbs a slow request, scheduling jitter on a
     * busy box (the agent runs at Nice=10) and the gaps between requests, no more. At 100 ms a
     * loaded 2-core box lost a fifth of the rate (scripts/bench neighbour); a second would allow
     * a 2x second after any pause.
     */
    public static final Duration BURST = Duration.ofMillis(250);

    private static final long NANOS = 1_000_000_000L;
    /** Bounds the walk over schedule changes since the last read (a box that slept for weeks). */
    private static final int MAX_SEGMENTS = 64;

    private final BandwidthSchedule schedule;
    private final Clock clock;
    private long rate;        // bytes per second; 0 = unlimited
    private Instant until;    // when the schedule may change the rate
    private long tokens;      // byte-nanoseconds per second: bytes * 1e9 (negative = debt)
    private Instant last;     // when tokens were last brought up to date

    public Throttle(BandwidthSchedule schedule, Clock clock) {
        this.schedule = schedule;
        this.clock = clock;
        this.last = clock.instant();
        enter(schedule.at(last));
        this.tokens = 0; // empty: a download starts at the cap, not with a burst
    }

    /**
     * Counts {@code bytes} just read and says how long to wait before reading more: 0 to go on,
     * else nanoseconds (until the debt is paid, or until the next schedule change if sooner; ask
     * again then). {@code take(0)} only asks.
     */
    public synchronized long take(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("bytes " + bytes + " < 0");
        Instant now = clock.instant();
        advance(now);
        if (rate == Bandwidth.UNLIMITED) return 0;
        tokens -= bytes * NANOS;
        if (tokens >= 0) return 0;
        long wait = ceilDiv(-tokens, rate);
        long toChange = Duration.between(now, until).toNanos();
        return Math.max(1, Math.min(wait, toChange));
    }

    /** The cap in force now. */
    public synchronized Bandwidth cap() {
        advance(clock.instant());
        return rate == Bandwidth.UNLIMITED ? Bandwidth.unlimited() : new Bandwidth(rate);
    }

    /** Whole bytes the bucket holds now (negative: the debt). */
    public synchronized long tokens() {
        advance(clock.instant());
        return Math.floorDiv(tokens, NANOS);
    }

    /** The most the bucket holds at the current cap, in bytes. */
    public synchronized long burstBytes() {
        return capacity() / NANOS;
    }

    private void advance(Instant now) {
        if (now.isBefore(last)) {
            // The clock stepped back (NTP): no tokens for time that did not pass.
            last = now;
            return;
        }
        for (int i = 0; i < MAX_SEGMENTS && !now.isBefore(until); i++) {
            fill(until);
            enter(schedule.at(until));
        }
        if (!now.isBefore(until)) {
            // More changes than MAX_SEGMENTS since the last read: the bucket is full or forgiven by now anyway.
            last = now;
            enter(schedule.at(now));
            tokens = capacity();
        }
        fill(now);
    }

    private void fill(Instant to) {
        long elapsed = Duration.between(last, to).toNanos();
        last = to;
        if (rate == Bandwidth.UNLIMITED || elapsed <= 0) return;
        long room = capacity() - tokens;
        if (room <= 0) return;
        // rate * elapsed could overflow for long gaps: past the time to fill, the bucket is simply full.
        if (elapsed >= ceilDiv(room, rate)) tokens = capacity();
        else tokens += rate * elapsed;
    }

    private void enter(BandwidthSchedule.Segment s) {
        long was = rate;
        rate = s.cap().bytesPerSecond();
        until = s.until();
        if (rate == Bandwidth.UNLIMITED || was == Bandwidth.UNLIMITED) {
            // Into unlimited: debt forgiven. Out of unlimited: start empty, no burst banked while uncapped.
            tokens = 0;
        } else if (tokens > capacity()) {
            tokens = capacity();
        }
    }

    /** BURST's worth at the current rate, in byte-nanoseconds per second (= rate * BURST in ns). */
    private long capacity() {
        return rate * BURST.toNanos();
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }
}
