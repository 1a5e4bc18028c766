package rsuota.agent.download;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"),
 * honouring the server's Retry-After, and a cap on consecutive failures so that a permanent
 * problem ends in {@code failed} instead of an endless loop.
 *
 * @param base                   first delay
 * @param max                    longest delay
 * @param maxConsecutiveFailures failures in a row (no chunk completed in between) before giving up
 */
public record RetryPolicy(Duration base, Duration max, int maxConsecutiveFailures) {

    public static RetryPolicy defaults() {
        return new RetryPolicy(Duration.ofSeconds(1), Duration.ofMinutes(5), 10);
    }

    /** Delay before attempt {@code failures + 1}. */
    public Duration delay(int failures, Duration retryAfter, RandomGenerator rnd) {
        long cap = Math.min(max.toMillis(), base.toMillis() << Math.min(20, Math.max(0, failures - 1)));
        long jittered = cap <= 0 ? 0 : rnd.nextLong(cap + 1);
        if (retryAfter != null) {
            // The server knows best when it will have capacity; never sooner, but never beyond our max.
            return Duration.ofMillis(Math.min(max.toMillis(), Math.max(jittered, retryAfter.toMillis())));
        }
        return Duration.ofMillis(jittered);
    }
}
