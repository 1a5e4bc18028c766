package rsuota.agent.health;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides whether a trial boot is kept. The engine calls {@link #checkOnce()} every check
 * interval and hands the results to {@link #observe(Instant, List)} with the current time:
 * <ul>
 * <li>each probe may fail up to its tolerance times in a row (a service still starting, one slow
 *     answer); one more consecutive failure is {@link Verdict.Unhealthy};</li>
 * <li>once every probe has passed continuously (no failure in any observation) for the required
 *     time, the verdict is {@link Verdict.Healthy};</li>
 * <li>if the commit window ends before that, {@link Verdict.Unhealthy}.</li>
 * </ul>
 * A decision is final: later observations return it unchanged. With no probes configured the
 * trial is kept once the required time has been observed: the box booted and the agent kept running.
 *
 * <p>No clock is read here. Pass a monotonic time (e.g. window start plus elapsed
 * {@code System.nanoTime()}): a box without RTC may step its wall clock by years after NTP syncs,
 * which must not end or stretch the window. A time earlier than the previous one counts as the
 * previous one. After an agent restart the engine makes a new monitor with the persisted window
 * start; the passing streak then starts over, which errs on the side of rolling back.
 */
public final class HealthMonitor {

    private final List<HealthConfig.ProbeSpec> probes;
    private final Duration required;
    private final Instant windowStart;
    private final Instant windowEnd;
    private final Duration commitWindow;
    private final Map<String, Integer> consecutiveFailures = new HashMap<>();
    private Instant streakStart;
    private Instant last;
    private Verdict decided;

    public HealthMonitor(HealthConfig config, Instant windowStart) {
        this(config.probes(), config.commitWindow(), config.requiredPassing(), windowStart);
    }

    public HealthMonitor(List<HealthConfig.ProbeSpec> probes, Duration commitWindow, Duration requiredPassing, Instant windowStart) {
        if (requiredPassing.compareTo(commitWindow) > 0) {
            throw new IllegalArgumentException("required passing time " + HealthConfig.format(requiredPassing)
                    + " is longer than the commit window " + HealthConfig.format(commitWindow));
        }
        this.probes = List.copyOf(probes);
        this.commitWindow = commitWindow;
        this.required = requiredPassing;
        this.windowStart = windowStart;
        this.windowEnd = windowStart.plus(commitWindow);
    }

    public Instant windowStart() {
        return windowStart;
    }

    public Instant windowEnd() {
        return windowEnd;
    }

    /** Runs every probe once, in order (each bounded by its own timeout). */
    public List<ProbeResult> checkOnce() {
        List<ProbeResult> out = new ArrayList<>();
        for (HealthConfig.ProbeSpec p : probes) out.add(p.probe().check());
        return out;
    }

    /**
     * Feeds one round of results taken at {@code now}. Results are matched to probes by name; a
     * configured probe without a result counts as failed; results of unknown probes are ignored.
     */
    public synchronized Verdict observe(Instant now, List<ProbeResult> results) {
        if (decided != null) return decided;
        if (last != null && now.isBefore(last)) now = last;
        last = now;
        Map<String, ProbeResult> byName = new HashMap<>();
        for (ProbeResult r : results) byName.put(r.name(), r);

        List<String> failing = new ArrayList<>();
        for (HealthConfig.ProbeSpec p : probes) {
            String name = p.probe().name();
            ProbeResult r = byName.getOrDefault(name, ProbeResult.fail(name, "no result in this round"));
            if (r.pass()) {
                consecutiveFailures.put(name, 0);
                continue;
            }
            int n = consecutiveFailures.merge(name, 1, Integer::sum);
            if (n > p.tolerance()) {
                decided = new Verdict.Unhealthy("probe " + name + " failed " + n + " time" + (n == 1 ? "" : "s")
                        + " in a row (tolerance " + p.tolerance() + "): " + r.detail());
                return decided;
            }
            failing.add(name + ": " + r.detail() + " (" + n + "/" + p.tolerance() + ")");
        }

        Duration passingFor = Duration.ZERO;
        if (failing.isEmpty()) {
            if (streakStart == null) streakStart = now;
            passingFor = Duration.between(streakStart, now);
            if (passingFor.compareTo(required) >= 0) {
                decided = new Verdict.Healthy(passingFor);
                return decided;
            }
        } else {
            streakStart = null; // "continuously": any failure restarts the count
        }
        if (!now.isBefore(windowEnd)) {
            decided = new Verdict.Unhealthy("commit window of " + HealthConfig.format(commitWindow) + " ended with "
                    + HealthConfig.format(passingFor) + " of continuous passing, " + HealthConfig.format(required) + " required"
                    + (failing.isEmpty() ? "" : "; failing: " + String.join("; ", failing)));
            return decided;
        }
        return new Verdict.Passing(passingFor, required, failing);
    }
}
