package rsuota.hal.watchdog;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kicks a {@link Watchdog} only while the agent's main loop makes progress. The loop calls
 * {@link #beat()} each time it completes a pass; a scheduler thread checks every kick interval and
 * kicks only if the last beat is at most {@code maxBeatAge} old. A hung or deadlocked loop stops
 * beating, the kicks stop, and systemd (or the hardware watchdog) restarts the agent or the box.
 * A separate thread that kicked unconditionally would keep a dead agent alive forever.
 *
 * <p>When the loop goes stale the watchdog is told once ({@link Watchdog#stalled}), so
 * {@code systemctl status} says why the kicks stopped. Time comes from a monotonic nanosecond source
 * (wall-clock steps after an NTP sync must not look like a stall); tests inject their own.
 */
public final class LoopWatchdog implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LoopWatchdog.class);

    private final Watchdog watchdog;
    private final Duration kickInterval;
    private final long maxBeatAgeNanos;
    private final ScheduledExecutorService scheduler;
    private final LongSupplier nanoTime;
    private final AtomicLong lastBeat = new AtomicLong();
    private final AtomicLong checks = new AtomicLong();
    private final AtomicLong kicks = new AtomicLong();
    private boolean stale; // only touched by check(), which is synchronized
    private boolean kickFailing;
    private ScheduledFuture<?> task;

    /**
     * @param kickInterval how often to check and kick, e.g. {@link SystemdNotifier#watchdogInterval}
     * @param maxBeatAge   a beat older than this counts as a stalled loop; make it a few loop periods
     * @param scheduler    runs the checks; owned by the caller, not shut down by {@link #close()}
     */
    public LoopWatchdog(Watchdog watchdog, Duration kickInterval, Duration maxBeatAge, ScheduledExecutorService scheduler) {
        this(watchdog, kickInterval, maxBeatAge, scheduler, System::nanoTime);
    }

    /** As above, with the monotonic time source in nanoseconds given (tests). */
    public LoopWatchdog(Watchdog watchdog, Duration kickInterval, Duration maxBeatAge, ScheduledExecutorService scheduler,
                        LongSupplier nanoTime) {
        if (kickInterval.isNegative() || kickInterval.isZero()) throw new IllegalArgumentException("kick interval must be positive: " + kickInterval);
        if (maxBeatAge.isNegative() || maxBeatAge.isZero()) throw new IllegalArgumentException("max beat age must be positive: " + maxBeatAge);
        this.watchdog = watchdog;
        this.kickInterval = kickInterval;
        this.maxBeatAgeNanos = maxBeatAge.toNanos();
        this.scheduler = scheduler;
        this.nanoTime = nanoTime;
        // Starting counts as progress: the loop gets maxBeatAge for its first pass.
        lastBeat.set(nanoTime.getAsLong());
    }

    /** Called by the main loop after each pass that made progress. Cheap and thread-safe. */
    public void beat() {
        lastBeat.set(nanoTime.getAsLong());
    }

    /** Checks now and then every kick interval. Calling it twice does nothing more. */
    public synchronized void start() {
        if (task != null) return;
        long ns = kickInterval.toNanos();
        task = scheduler.scheduleWithFixedDelay(this::check, 0, ns, TimeUnit.NANOSECONDS);
    }

    /**
     * One decision: kicks when the last beat is recent enough. Returns whether it kicked.
     * A kick that fails is logged (once per failure streak) and not retried before the next check.
     */
    public synchronized boolean check() {
        checks.incrementAndGet();
        long age = nanoTime.getAsLong() - lastBeat.get();
        if (age > maxBeatAgeNanos) {
            if (!stale) {
                stale = true;
                String why = "main loop stalled: no progress for " + Duration.ofNanos(age).toSeconds()
                        + " s, watchdog kicks stopped";
                log.error("{} ({})", why, watchdog.describe());
                try {
                    watchdog.stalled(why);
                } catch (IOException e) {
                    log.warn("could not report the stall to {}: {}", watchdog.describe(), e.getMessage());
                }
            }
            return false;
        }
        if (stale) {
            stale = false;
            log.warn("main loop makes progress again, watchdog kicks resume ({})", watchdog.describe());
        }
        try {
            watchdog.kick();
        } catch (IOException e) {
            if (!kickFailing) log.warn("watchdog kick failed: {}", e.getMessage());
            kickFailing = true;
            return false;
        }
        kickFailing = false;
        kicks.incrementAndGet();
        return true;
    }

    /** Checks made so far (for diagnostics and tests). */
    public long checks() {
        return checks.get();
    }

    /** Successful kicks so far. */
    public long kicks() {
        return kicks.get();
    }

    /** Stops checking; the watchdog itself is left as it is (its owner closes it). */
    @Override
    public synchronized void close() {
        if (task != null) task.cancel(false);
        task = null;
    }
}
