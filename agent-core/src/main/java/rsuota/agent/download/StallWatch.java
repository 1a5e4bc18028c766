package rsuota.agent.download;

import java.time.Duration;
import rsuota.agent.AgentError;

/**
 * The low-speed check on a response body (like curl's --speed-limit/--speed-time): a body that
 * delivers fewer than {@link HttpBundleSource.Options#MIN_BYTES_PER_SECOND} over a whole
 * {@code stallTimeout} window is abandoned, so neither silence nor a slow drip holds a download
 * forever, while a slow but moving body is kept. Not thread-safe: one per response, checked by
 * the thread that waits for it.
 */
final class StallWatch {
    private final Duration window;
    private final long windowNanos;
    private final long minBytes;
    private long checkpointAt;
    private long checkpointBytes;

    /** {@code start}: {@link System#nanoTime()} when the headers arrived. */
    StallWatch(Duration stallTimeout, long start) {
        this.window = stallTimeout;
        this.windowNanos = stallTimeout.toNanos();
        this.minBytes = Math.max(1, HttpBundleSource.Options.MIN_BYTES_PER_SECOND * stallTimeout.toMillis() / 1000);
        this.checkpointAt = start;
    }

    /** How often a waiting thread should look: a quarter window, between 10 ms and 1 s. */
    static long pollMillis(Duration stallTimeout) {
        return Math.max(10, Math.min(1000, stallTimeout.toMillis() / 4));
    }

    /** Throws STALLED when the window that ended by {@code now} brought fewer than the minimum; {@code received}: body bytes so far. */
    void check(long now, long received) throws FetchException {
        if (now - checkpointAt < windowNanos) return;
        long got = received - checkpointBytes;
        if (got < minBytes) {
            throw new FetchException(AgentError.STALLED, got + " body bytes in the last " + window.toMillis()
                    + " ms (minimum " + minBytes + ") after " + received + " bytes");
        }
        checkpointAt = now;
        checkpointBytes = received;
    }
}
