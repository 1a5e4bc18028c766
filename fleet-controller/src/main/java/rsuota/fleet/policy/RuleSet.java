package rsuota.fleet.policy;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The pause rules a rollout runs with, fixed when the rollout is created (a pause event names
 * {@link #version()}, so it can always be read against the rules that produced it).
 *
 * @param version increases whenever a deployment changes its default rules
 * @param window  the sliding window over which each device's KPI samples are averaged
 * @param rules   at most one rule of each kind
 */
public record RuleSet(int version, Duration window, List<PauseRule> rules) {
    /** Version of {@link #defaults()}. */
    public static final int DEFAULT_VERSION = 1;
    /** "for 10 min": a KPI dip shorter than this is noise on a cellular link, not a bad release. */
    public static final Duration DEFAULT_SUSTAINED = Duration.ofMinutes(10);
    /** Five heartbeats of a device reporting every minute. */
    public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(5);

    public RuleSet {
        if (version < 1) throw new IllegalArgumentException("rule set version must be >= 1");
        if (window == null || window.isZero() || window.isNegative()) throw new IllegalArgumentException("window must be a positive duration");
        rules = List.copyOf(rules);
        Set<String> names = new HashSet<>();
        for (PauseRule r : rules) {
            if (!names.add(r.name())) throw new IllegalArgumentException("rule " + r.name() + " is listed twice");
        }
    }

    /**
     * The Go/No-Go KPIs: availability >= 99.5 %, lag median < 2 s, lag p95 < 10 s, dropped < 0.1 %,
     * rollback rate < 5 %, no Sev1. One reporting device suffices, so a one-device canary is
     * judged; pilots and waves raise {@code minDevices} through their own rule sets.
     */
    public static RuleSet defaults() {
        return new RuleSet(DEFAULT_VERSION, DEFAULT_WINDOW, List.of(
                new PauseRule.AvailabilityBelow(0.995, DEFAULT_SUSTAINED, 1),
                new PauseRule.LagMedianAbove(Duration.ofSeconds(2), DEFAULT_SUSTAINED, 1),
                new PauseRule.LagP95Above(Duration.ofSeconds(10), DEFAULT_SUSTAINED, 1),
                new PauseRule.DroppedRatioAbove(0.001, DEFAULT_SUSTAINED, 1),
                // A rollback is a confirmed fact, not a noisy sample: no need to wait for it to persist.
                new PauseRule.RollbackRateAbove(0.05, Duration.ZERO, 1),
                new PauseRule.OpenSev1(Duration.ZERO)));
    }
}
