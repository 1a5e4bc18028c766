package rsuota.agent.health;

import java.time.Duration;
import java.util.List;

/** What the commit check concludes after an observation. */
public sealed interface Verdict permits Verdict.Passing, Verdict.Healthy, Verdict.Unhealthy {

    /**
     * No decision yet: keep checking.
     *
     * @param passingFor how long all probes have passed without a break (zero while any fails)
     * @param required   how long they must
     * @param failing    probes failing now but within their tolerance, e.g. "http:...: HTTP 503 (1/3)"
     */
    record Passing(Duration passingFor, Duration required, List<String> failing) implements Verdict {
        public Passing {
            failing = List.copyOf(failing);
        }
    }

    /** All probes passed continuously for the required time: keep the new slot. */
    record Healthy(Duration passedFor) implements Verdict {}

    /** A probe failed beyond its tolerance, or the commit window ended first: roll back. */
    record Unhealthy(String reason) implements Verdict {}
}
