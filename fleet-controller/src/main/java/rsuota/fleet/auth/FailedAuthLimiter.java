package rsuota.fleet.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Failed authentication per source address: after {@link #MAX_FAILURES} (configurable) failures within
 * {@link #WINDOW}, every request from that address is refused (429, Retry-After) until the oldest
 * failure leaves the window, even one with a good token, so a token sprayer learns nothing from
 * trying. Successes do not count. Bounded: at most {@link #MAX_ADDRESSES} addresses are tracked,
 * the least recently failing one forgotten first. Time is the injected clock.
 */
public final class FailedAuthLimiter {
    /** Failures an address may have within {@link #WINDOW} by default (--failed-auth-limit). */
    public static final int MAX_FAILURES = 10;
    public static final Duration WINDOW = Duration.ofMinutes(1);
    static final int MAX_ADDRESSES = 10_000;

    private final Clock clock;
    private volatile int maxFailures = MAX_FAILURES;
    private final Map<String, Deque<Instant>> failures = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Deque<Instant>> eldest) {
            return size() > MAX_ADDRESSES;
        }
    };

    public FailedAuthLimiter(Clock clock) {
        this.clock = clock;
    }

    /** Failures per address and minute before it is refused (1..100000). */
    public FailedAuthLimiter maxFailures(int n) {
        if (n < 1 || n > 100_000) throw new IllegalArgumentException("--failed-auth-limit must be in 1..100000, got " + n);
        this.maxFailures = n;
        return this;
    }

    /** How long {@code address} must wait before it may authenticate again; zero when it may now. */
    public synchronized Duration blockedFor(String address) {
        Deque<Instant> d = failures.get(address);
        if (d == null) return Duration.ZERO;
        Instant now = clock.instant();
        prune(d, now);
        if (d.isEmpty()) {
            failures.remove(address);
            return Duration.ZERO;
        }
        if (d.size() < maxFailures) return Duration.ZERO;
        Duration wait = Duration.between(now, d.peekFirst().plus(WINDOW));
        return wait.isNegative() || wait.isZero() ? Duration.ofSeconds(1) : wait;
    }

    /** Counts a failed authentication from {@code address}. */
    public synchronized void failed(String address) {
        Instant now = clock.instant();
        Deque<Instant> d = failures.computeIfAbsent(address, k -> new ArrayDeque<>());
        prune(d, now);
        d.addLast(now);
        while (d.size() > maxFailures) d.removeFirst();
    }

    private static void prune(Deque<Instant> d, Instant now) {
        while (!d.isEmpty() && !d.peekFirst().plus(WINDOW).isAfter(now)) d.removeFirst();
    }
}
