package rsuota.lab.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import rsuota.wire.MqttState;

/**
 * Everything a run leaves behind, as {@code report.json} holds it and the HTML page draws it:
 * the verdict and its reasons, the final state of every device, every rollout with its pause
 * events, the audit trail, bytes fetched against the bound, the timeline and the cohort KPI series.
 *
 * @param failures         unmet expectations and failed steps, in words (empty when passed)
 * @param broker           which broker the run used
 * @param bundles          the releases built for the run
 * @param devices          final state of every device
 * @param cohorts          cohorts as created (members, devices excluded with the reason)
 * @param rollouts         final status of every rollout, as the controller's REST API gives it
 * @param pauses           every pause event of every rollout, with its findings
 * @param audit            the controller's audit trail
 * @param auditVerified    whether the audit hash chain verified
 * @param labZero          when the lab clock started (lab times are milliseconds from here)
 * @param timeline         what happened when
 * @param history          every device's state over time, for the timeline chart
 * @param phaseHistory     every phase's state over time
 * @param kpis             cohort KPI series as the controller's rules saw them
 */
public record RunReport(String scenario, String title, String description, Instant startedAt, Instant labZero, double seconds,
                        boolean passed, List<String> failures, String broker, List<Bundle> bundles, List<Device> devices,
                        List<Cohort> cohorts, List<Rollout> rollouts, List<JsonNode> pauses, List<JsonNode> audit, boolean auditVerified,
                        List<Timeline.Event> timeline, List<StateChange> history, List<StateChange> phaseHistory, List<Series> kpis) {

    /**
     * A device's state from lab time {@code t} on ("off" while it has no power), or a phase's
     * (then {@code device} is "release/phase" and {@code running} null).
     */
    public record StateChange(String device, long t, String state, String running) {}

    /** A report.json written by an older lab may lack newer lists: read as empty. */
    public RunReport {
        failures = failures == null ? List.of() : failures;
        bundles = bundles == null ? List.of() : bundles;
        devices = devices == null ? List.of() : devices;
        cohorts = cohorts == null ? List.of() : cohorts;
        rollouts = rollouts == null ? List.of() : rollouts;
        pauses = pauses == null ? List.of() : pauses;
        audit = audit == null ? List.of() : audit;
        timeline = timeline == null ? List.of() : timeline;
        history = history == null ? List.of() : history;
        phaseHistory = phaseHistory == null ? List.of() : phaseHistory;
        kpis = kpis == null ? List.of() : kpis;
    }

    /**
     * @param bytes      whole bundle file
     * @param header     header (magic, manifest, signature) before the payload
     * @param profile    its fault profile, in words
     */
    public record Bundle(String release, String file, long bytes, long header, long payload, int chunkSize, int chunks, String profile) {}

    /** The full size of the bundles {@code d} downloaded: what it would have fetched with nothing to reuse. */
    public long fullBytes(Device d) {
        return d.downloads().stream().mapToLong(v -> bundles().stream().filter(b -> b.release().equals(v)).mapToLong(Bundle::bytes).sum()).sum();
    }

    /**
     * @param cohorts      "release/cohort" memberships
     * @param running      release of the booted slot
     * @param bytesFetched downstream bytes through its bundle proxy (HTTP headers included)
     * @param bound        the most it may have fetched: its bundles + one chunk per cut + header fetches + HTTP framing
     * @param cuts         connections its bundle path cut
     * @param downloads    releases it downloaded
     */
    public record Device(String id, String variant, String region, String corridor, List<String> cohorts, boolean powered, String state,
                         String running, String target, String error, String errorMessage, List<MqttState.Slot> slots, MqttState.Kpis kpis,
                         long bytesFetched, long bound, long cuts, List<String> downloads, int boots, int hangs, int powerCuts) {}

    public record Cohort(String release, long id, String name, String kind, List<String> members, JsonNode excluded) {}

    public record Rollout(String release, long id, String state, JsonNode status) {}

    /**
     * One KPI of one cohort over the run.
     *
     * @param points [lab seconds, observed] pairs
     */
    public record Series(String release, String cohort, String rule, String unit, String comparison, double threshold,
                         List<double[]> points) {}
}
