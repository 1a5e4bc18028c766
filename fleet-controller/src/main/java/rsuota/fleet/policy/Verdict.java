package rsuota.fleet.policy;

import java.util.List;

/** The outcome of one rule over one cohort at one evaluation. */
public sealed interface Verdict permits Verdict.Clear, Verdict.Breach, Verdict.Inconclusive {
    /** Devices the verdict rests on. */
    int sample();

    /** Stable lower-case name for the store and the API. */
    String kind();

    /** The threshold holds. */
    record Clear(double observed, int sample) implements Verdict {
        public String kind() { return "clear"; }
    }

    /** The threshold is crossed; {@code offending} are the devices whose own value crosses it. */
    record Breach(double observed, int sample, List<String> offending) implements Verdict {
        public Breach {
            offending = List.copyOf(offending);
        }

        public String kind() { return "breach"; }
    }

    /** Fewer than {@code required} devices report: no judgement either way. */
    record Inconclusive(int sample, int required) implements Verdict {
        public String kind() { return "inconclusive"; }
    }
}
