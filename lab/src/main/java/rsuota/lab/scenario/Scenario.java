package rsuota.lab.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One lab scenario, as read from its JSON file (format: docs/lab.md). Every duration in it is lab
 * data: the controller's phases, windows and rules, the agents' heartbeat and commit window, the
 * application's degradation, so a week of rollout plays in a minute.
 *
 * @param name        file name without .json
 * @param title       one line for people
 * @param description what it proves
 * @param timeLimit   the run fails if its expectations do not all hold within this
 * @param tick        the controller's rollout-engine step
 * @param agent       agent and simulated-device timings, the same for every device
 * @param factory     the release every device runs at the start (a real bundle, also known to the controller)
 * @param devices     the fleet
 * @param releases    releases built and registered, in order
 * @param cohorts     request bodies of {@code POST /api/v1/cohorts}, created in order
 * @param rollouts    request bodies of {@code POST /api/v1/rollouts}, created in order (started by the timeline)
 * @param timeline    what happens when
 * @param expect      what must hold at the end
 */
public record Scenario(String name, String title, String description, Duration timeLimit, Duration tick, AgentSettings agent,
                       FactoryRelease factory, List<DeviceSpec> devices, List<ReleaseSpec> releases, List<ObjectNode> cohorts,
                       List<ObjectNode> rollouts, List<Step> timeline, Expect expect) {

    public Scenario {
        devices = List.copyOf(devices);
        releases = List.copyOf(releases);
        cohorts = List.copyOf(cohorts);
        rollouts = List.copyOf(rollouts);
        timeline = List.copyOf(timeline);
    }

    /**
     * Timings of every simulated device (agent.conf keys in brackets).
     *
     * @param heartbeat        state snapshot interval [link.heartbeat]: how fresh the controller's KPI window is
     * @param healthInterval   health check interval in the commit window [health.interval]
     * @param requiredPassing  health must pass this long before the commit [health.requiredPassing]
     * @param commitWindow     the trial's deadline [health.commitWindow]
     * @param retryBase        download retry base delay [download.retry.base]
     * @param retryMax         download retry cap [download.retry.max]
     * @param stallTimeout     a body stalled this long is abandoned and retried [download.stallTimeout]
     * @param rollbackBudget   [rollback.budget]
     * @param bootTries        trial boot attempts [boot.tries]
     * @param slotSize         size of each simulated slot file
     * @param appInterval      how often the simulated application rewrites its KPI file
     * @param hangTime         how long one hung boot lasts before the simulated watchdog resets the box
     * @param bootTime         from power-on to the agent starting
     */
    public record AgentSettings(Duration heartbeat, Duration healthInterval, Duration requiredPassing, Duration commitWindow,
                                Duration retryBase, Duration retryMax, Duration stallTimeout, Duration rollbackBudget, int bootTries,
                                long slotSize, Duration appInterval, Duration hangTime, Duration bootTime) {}

    /** The release installed at the factory (slot A), e.g. 1.0.0. */
    public record FactoryRelease(String version, long imageSize, int chunkSize, int format) {}

    /** @param offline powered off at the start (a {@code power-on} step brings it up) */
    public record DeviceSpec(String id, String variant, String region, String corridor, boolean offline) {}

    /**
     * A release the lab builds, signs with the test PKI and registers with the controller.
     *
     * @param format bundle format: 1 (fixed chunks) or 2 (content-defined compressed chunks a unit reuses from its running slot)
     * @param base   the release whose image this one's starts from (a minor release), or null: an image of its own
     * @param change with a base, the share of the image rewritten (in three places after the fault profile header)
     */
    public record ReleaseSpec(String version, String previousStable, List<String> compatible, long securityVersion, long imageSize,
                              int chunkSize, FaultProfile profile, String notes, int format, String base, double change) {}

    /** What a device expectation names: every device, or a list. */
    public record Targets(boolean all, List<String> ids) {
        public static final Targets ALL = new Targets(true, List.of());

        public Targets {
            ids = List.copyOf(ids);
        }

        public boolean includes(String id) {
            return all || ids.contains(id);
        }

        @Override
        public String toString() {
            return all ? "all devices" : String.join(", ", ids);
        }
    }

    /**
     * @param rollouts         final rollout state per release (completed, paused, rolled_back, ...)
     * @param rolloutTimes     when a rollout's expected state may hold first / must hold by (absent: any time)
     * @param phases           final phase states
     * @param devices          final device states
     * @param pauses           the pause events that must have happened; any other pause fails the run
     * @param blocked          devices a cohort filter matched but the variant matrix blocked
     * @param alerts           alerts the controller must have raised
     * @param never            what must not happen at any moment of the run
     * @param bytesWithinBound every device fetched at most its bundles + one chunk per cut + the header fetch
     * @param minCuts          every device's bundle path was cut at least this often
     * @param maxFetchedShare  every device that downloaded fetched at most this share of its bundles' full size (null: no limit)
     * @param audit            audit actions that must appear (the hash chain is always verified)
     * @param holdFor          everything must hold this long without a break before the run passes
     */
    public record Expect(Map<String, String> rollouts, Map<String, Timing> rolloutTimes, List<PhaseExpect> phases, List<DeviceExpect> devices,
                         List<PauseExpect> pauses, List<BlockedExpect> blocked, List<AlertExpect> alerts, Never never, boolean bytesWithinBound,
                         int minCuts, Double maxFetchedShare, List<String> audit, Duration holdFor) {
        public Expect {
            rollouts = Map.copyOf(rollouts);
            rolloutTimes = Map.copyOf(rolloutTimes);
            phases = List.copyOf(phases);
            devices = List.copyOf(devices);
            pauses = List.copyOf(pauses);
            blocked = List.copyOf(blocked);
            alerts = List.copyOf(alerts);
            audit = List.copyOf(audit);
        }
    }

    /**
     * When an expectation may first hold and by when it must have held, in lab time (null: no bound).
     * A pause is timed by its own event time; anything else by the lab's observation of it.
     */
    public record Timing(Duration notBefore, Duration by) {
        public static final Timing ANY = new Timing(null, null);

        public boolean bounded() {
            return notBefore != null || by != null;
        }
    }

    public record PhaseExpect(String release, String phase, String state, Timing timing) {}

    /**
     * @param state      the agent's reported state (activated, rolled_back, verified, idle, ...), or null
     * @param running    releases the booted slot may hold (either is correct), or empty
     * @param error      code of the agent's last error (boot_failed, health_failed), or null
     * @param release    the rollout whose view {@code controller} is checked against (required with it)
     * @param controller the controller's view of the unit in that rollout: its bucket, reported state, rollback result or flag
     */
    public record DeviceExpect(Targets devices, String state, List<String> running, String error, String release, String controller,
                               Timing timing) {
        public DeviceExpect {
            running = running == null ? List.of() : List.copyOf(running);
        }
    }

    /**
     * @param cause     rule | operator | rollback
     * @param rule      the rule that fired (cause rule), or null
     * @param cohort    the cohort it fired on, or null
     * @param afterStep id of a timeline step; with {@code within}: the pause came at most that long after it
     * @param mentions  words the explanation must contain (its reason and findings: devices, slices, values)
     * @param fields    JSON pointers into the pause event and the text each must hold ({@code /findings/0/offending/0})
     */
    public record PauseExpect(String release, String cause, String rule, String cohort, String afterStep, Duration within,
                              List<String> mentions, Map<String, String> fields, Timing timing) {
        public PauseExpect {
            mentions = mentions == null ? List.of() : List.copyOf(mentions);
            fields = fields == null ? Map.of() : Map.copyOf(fields);
        }
    }

    public record BlockedExpect(String release, String device, String variant) {}

    /** An alert the controller raised for that release's rollout ({@code rollback_overdue}, ...), for one device or any. */
    public record AlertExpect(String release, String kind, String device, Timing timing) {}

    /**
     * What must not be seen at any observation of the run: a violation fails the run at once.
     *
     * @param pauses   no pause event at all
     * @param alerts   no alert of these kinds
     * @param rollouts per release, states its rollout must never be in
     * @param devices  states or releases these units must never report
     */
    public record Never(boolean pauses, List<String> alerts, Map<String, List<String>> rollouts, List<DeviceNever> devices) {
        public static final Never NOTHING = new Never(false, List.of(), Map.of(), List.of());

        public Never {
            alerts = List.copyOf(alerts);
            rollouts = Map.copyOf(rollouts);
            devices = List.copyOf(devices);
        }
    }

    /** @param state a reported state never seen, or null; @param running a release never booted, or null */
    public record DeviceNever(Targets devices, String state, String running) {}
}
