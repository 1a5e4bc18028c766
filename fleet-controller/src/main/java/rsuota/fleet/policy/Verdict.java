package rsuota.fleet.policy;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The outcome of one rule over one cohort (or one slice of it) at one evaluation. */
public sealed interface Verdict permits Verdict.Clear, Verdict.Breach, Verdict.Inconclusive {
    /** Devices the verdict rests on. */
    int sample();

    /** Stable lower-case name for the store and the API. */
    String kind();

    /** What the verdict rests on besides its number: devices' own values, the control group. */
    Evidence evidence();

    /**
     * @param deviceValues each named device's own value of the rule's KPI (the offending ones, for a breach)
     * @param control      the comparison with the control group, or null when the rule has none
     */
    record Evidence(Map<String, Double> deviceValues, ControlComparison control) {
        public static final Evidence NONE = new Evidence(Map.of(), null);

        public Evidence {
            deviceValues = deviceValues == null ? Map.of() : new TreeMap<>(deviceValues);
        }
    }

    /**
     * The judged devices against their control group over the same window.
     *
     * @param by              corridor or region
     * @param compare         difference or ratio
     * @param limit           how much worse the judged devices may be
     * @param judgedValue     the KPI over the judged devices
     * @param judgedSize      judged devices reporting
     * @param controlValue    the KPI over the control group
     * @param controlSize     control units reporting
     * @param controlRequired the rule's minimum control size
     * @param controlDevices  the control units (first 50)
     */
    record ControlComparison(String by, String compare, double limit, double judgedValue, int judgedSize, double controlValue, int controlSize,
                             int controlRequired, List<String> controlDevices) {
        public ControlComparison {
            controlDevices = controlDevices == null ? List.of() : List.copyOf(controlDevices);
        }
    }

    /** The threshold holds. */
    record Clear(double observed, int sample, Evidence evidence) implements Verdict {
        public Clear(double observed, int sample) {
            this(observed, sample, Evidence.NONE);
        }

        public String kind() { return "clear"; }
    }

    /** The threshold is crossed; {@code offending} are the devices whose own value crosses it. */
    record Breach(double observed, int sample, List<String> offending, Evidence evidence) implements Verdict {
        public Breach {
            offending = List.copyOf(offending);
        }

        public Breach(double observed, int sample, List<String> offending) {
            this(observed, sample, offending, Evidence.NONE);
        }

        public String kind() { return "breach"; }
    }

    /**
     * Fewer than {@code required} devices report (or, with a control group, too few control units:
     * {@code evidence.control()} says so): no judgement either way.
     */
    record Inconclusive(int sample, int required, Evidence evidence) implements Verdict {
        public Inconclusive(int sample, int required) {
            this(sample, required, Evidence.NONE);
        }

        public String kind() { return "inconclusive"; }
    }
}
