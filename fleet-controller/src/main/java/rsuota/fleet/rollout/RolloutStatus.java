package rsuota.fleet.rollout;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import rsuota.fleet.policy.PauseEvent;

/**
 * Everything about one rollout a human or a dashboard needs, as of one instant: phases with their
 * device buckets and gate, each cohort's KPIs against the rule thresholds, pause events, alerts,
 * devices the variant matrix blocks, and what needs attention. {@code etag} changes with every
 * decision (state, phases, open pauses, flags): send it back as If-Match with the next decision.
 */
public record RolloutStatus(long id, String release, String previousStable, String state, int phaseIndex, Instant asOf, String etag,
                            Settings settings, int rulesVersion, String ruleWindow, List<String> attention, Hold hold, Instant createdAt,
                            String createdBy, Instant startedAt, Instant endedAt, List<PhaseView> phases, List<PauseEvent> pauses,
                            List<Alert> alerts, List<Blocked> blocked) {

    /**
     * What the rollout waits for now and the commands that resolve it (exact fleetctl lines).
     *
     * @param kind       observing (window running), awaiting_approval, inconclusive (held for a human: evidence missing),
     *                   gate (window passed, gate unmet for another reason), paused, rolling_back, needs_investigation, done
     * @param waitingFor in words
     * @param resolve    fleetctl command lines, first the usual one
     */
    public record Hold(String kind, List<String> waitingFor, List<String> resolve) {}

    public record Settings(Integer corridorCap, String silentAfter, String rollbackDeadline, String window, String activateDelay, Long bandwidthCap) {}

    public record PhaseView(int index, String name, long cohortId, String cohort, String state, String observation, String approval,
                            ExitCriteria criteria, Instant startedAt, Instant windowEndsAt, Instant gateMetAt, Instant endedAt,
                            String approvedBy, Map<String, Integer> buckets, List<String> unmet, List<Kpi> kpis, List<DeviceView> devices,
                            Bytes bytes) {}

    /**
     * What a cohort's downloads cost, against what the manifests predict for its units.
     *
     * @param devices           devices of the phase that reported a verified download of the release with its byte counts
     * @param fetched           sum of the bytes they fetched (headers and resumed runs included)
     * @param reused            sum of the image bytes they copied from their active slot
     * @param units             the phase's units (queued or dispatched)
     * @param expected          sum over those units of the payload bytes the manifests predict from the release each one
     *                          reported running when it was dispatched (queued: when the phase opened)
     * @param unitsWithoutDelta units counted at the whole payload because no delta is known for them (see {@link Source#withoutDelta})
     * @param sources           the units per release they come from, with the bytes one of them fetches
     * @param expectedFrom      the one release every unit comes from with a known delta, or null (several, or none known)
     * @param payloadBytes      the release's whole payload, per device
     */
    public record Bytes(int devices, long fetched, long reused, int units, long expected, int unitsWithoutDelta, List<Source> sources,
                        String expectedFrom, long payloadBytes) {}

    /**
     * Units of a phase that come from one release.
     *
     * @param from         the release they reported running, or null: they reported none
     * @param units        how many
     * @param bytesPerUnit payload bytes one of them fetches (the manifests' delta, or the whole payload without one)
     * @param withoutDelta why no delta is known, or null: {@link #NO_RELEASE}, {@link #UNKNOWN_RELEASE}, {@link #FORMAT_1}
     */
    public record Source(String from, int units, long bytesPerUnit, String withoutDelta) {
        /** The units reported no running release (never reported a state, or a slot without a release name). */
        public static final String NO_RELEASE = "no_release";
        /** The controller has no release (so no manifest) of that name: a technician's or a factory image. */
        public static final String UNKNOWN_RELEASE = "unknown_release";
        /** A format 1 release: its manifest holds no content-defined chunk identities to compare. */
        public static final String FORMAT_1 = "format_1";
    }

    /**
     * One rule over one cohort (or one slice of it) now: observed against threshold, and since when
     * it has been breached; with a control group, observed is how much worse than the control.
     *
     * @param slice   {"variant": "rsu-b2"} for a slice, empty for the whole cohort
     * @param values  the offending devices' own values
     * @param control the comparison with the control group (both values and sizes), or null
     */
    public record Kpi(String rule, Map<String, String> slice, String verdict, Double observed, String comparison, double threshold, String unit,
                      int sample, int required, String sustained, Instant breachSince, List<String> offending, Map<String, Double> values,
                      rsuota.fleet.policy.Verdict.ControlComparison control) {}

    public record DeviceView(String device, String corridor, String bucket, String state, String reason, Long rev, Instant dispatchedAt,
                             Instant lastReportAt, Instant activatedAt, boolean held, String rollback, String rollbackResult,
                             Instant rollbackDeadline, boolean overdue, String localBy, Instant localSince, String localReason,
                             String fromRelease) {}

    /** A device a phase's cohort filter matches but the release does not support. */
    public record Blocked(String device, String variant, String cohort) {}
}
