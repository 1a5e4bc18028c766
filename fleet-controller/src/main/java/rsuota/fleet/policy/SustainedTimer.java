package rsuota.fleet.policy;

import java.time.Duration;
import java.time.Instant;

/**
 * The "for 10 min" part of a rule: a breach must be seen on every evaluation from
 * {@code breachSince} on. A clear or inconclusive evaluation in between resets it, so input that
 * flaps around the threshold never fires, and missing data never counts as a sustained breach.
 *
 * @param breachSince first evaluation of the current unbroken run of breaches (null: none)
 * @param last        the previous verdict's kind
 */
public record SustainedTimer(Instant breachSince, String last) {
    public static final SustainedTimer IDLE = new SustainedTimer(null, "clear");

    /** The timer after {@code v} was observed at {@code now}, and whether the rule fires now. */
    public record Step(SustainedTimer next, boolean fires) {}

    public Step observe(Verdict v, Duration sustained, Instant now) {
        if (!(v instanceof Verdict.Breach)) return new Step(new SustainedTimer(null, v.kind()), false);
        Instant since = breachSince != null ? breachSince : now;
        // Fires exactly when the breach has held for the sustained duration, not one evaluation before.
        boolean fires = !now.isBefore(since.plus(sustained));
        return new Step(new SustainedTimer(since, v.kind()), fires);
    }
}
