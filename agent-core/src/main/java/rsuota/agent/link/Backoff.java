package rsuota.agent.link;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter for reconnects. The jitter matters more than the curve: after a
 * broker restart every roadside unit of a region reconnects at once, and randomising each delay
 * over its upper half spreads that herd while keeping a floor.
 *
 * @param initial    delay before the first retry
 * @param max        cap of the exponential curve
 * @param multiplier growth per failed attempt (>= 1)
 * @param jitter     fraction of the delay that is random, 0..1 (0.5: uniform in [d/2, d])
 */
public record Backoff(Duration initial, Duration max, double multiplier, double jitter) {

    /** 1 s doubling to 2 min: a broker outage costs each box one attempt per 2 min at most. */
    public static final Backoff DEFAULT = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(2), 2.0, 0.5);

    public Backoff {
        if (initial.isNegative() || initial.isZero()) throw new IllegalArgumentException("initial must be > 0: " + initial);
        if (max.compareTo(initial) < 0) throw new IllegalArgumentException("max " + max + " < initial " + initial);
        if (multiplier < 1.0) throw new IllegalArgumentException("multiplier must be >= 1: " + multiplier);
        if (jitter < 0 || jitter > 1) throw new IllegalArgumentException("jitter must be in 0..1: " + jitter);
    }

    /** Delay before retry number {@code attempt} (0 = first retry). */
    public Duration delay(int attempt, RandomGenerator random) {
        double base = initial.toNanos() * Math.pow(multiplier, Math.min(attempt, 62));
        double capped = Math.min(base, max.toNanos());
        double withJitter = capped * (1.0 - jitter * random.nextDouble());
        return Duration.ofNanos(Math.max(1, (long) withJitter));
    }
}
