package rsuota.lab.scenario;

import java.time.Duration;

/**
 * One timeline entry: when it happens ({@link Trigger}, plus an optional delay), to which devices,
 * and what ({@link Action}). Each step happens once.
 *
 * @param id      name other parts of the scenario refer to (pause expectations), or a generated one
 * @param trigger when
 * @param delay   extra wait after the trigger first holds
 * @param devices devices a network or power action applies to (ignored by operator actions)
 * @param action  what
 */
public record Step(String id, Trigger trigger, Duration delay, Scenario.Targets devices, Action action) {

    /** When a step happens. */
    public sealed interface Trigger permits At, DeviceIn, RolloutIn, PhaseIn, HoldIn {}

    /** At lab time {@code at} (the lab clock starts once the fleet is up and every rollout is created). */
    public record At(Duration at) implements Trigger {}

    /** When the device's agent reports {@code state} (downloading, committing, rolling_back, ...). */
    public record DeviceIn(String device, String state) implements Trigger {}

    /** When the rollout of {@code release} is {@code state} (running, paused, completed, ...). */
    public record RolloutIn(String release, String state) implements Trigger {}

    /** When phase {@code phase} of the rollout of {@code release} is {@code state} (active, awaiting_approval, passed). */
    public record PhaseIn(String release, String phase, String state) implements Trigger {}

    /** When the rollout of {@code release} waits for {@code kind} (its status' hold: inconclusive, awaiting_approval, gate, ...). */
    public record HoldIn(String release, String kind) implements Trigger {}

    /** Which network path of a device a fault hits. */
    public enum Path {
        /** The device's MQTT connection to the broker. */
        BROKER,
        /** The device's HTTP connections to the bundle server. */
        BUNDLES,
        BOTH;

        public boolean broker() {
            return this != BUNDLES;
        }

        public boolean bundles() {
            return this != BROKER;
        }
    }

    /** What a step does. */
    public sealed interface Action permits Cut, Stall, Throttle, Partition, Heal, Flap, PowerCut, PowerOff, PowerOn, Start, Advance, Pause,
            Resume, Rollback, Incident, Degrade, Extend, Clear, RestartController, Technician {
        /** The "do" word of the scenario file. */
        String verb();

        /** Whether it acts on devices (network, power) rather than on the controller. */
        default boolean onDevices() {
            return false;
        }
    }

    /**
     * Cuts the device's bundle connections: now (neither field), once when {@code at} more bytes have
     * gone to the device, or every {@code every} bytes ({@code times} windows, 0: for as long as the lab runs).
     */
    public record Cut(long every, long at, int times) implements Action {
        public String verb() { return "cut"; }
        public boolean onDevices() { return true; }
    }

    /** Holds the bundle connections open without forwarding a byte, for {@code duration}. */
    public record Stall(Duration duration) implements Action {
        public String verb() { return "stall"; }
        public boolean onDevices() { return true; }
    }

    /** Limits the bundle path to {@code bytesPerSecond}, for {@code duration} (null: until the end). */
    public record Throttle(long bytesPerSecond, Duration duration) implements Action {
        public String verb() { return "throttle"; }
        public boolean onDevices() { return true; }
    }

    /** Resets open connections on {@code path} and refuses new ones, for {@code duration} (null: until a heal). */
    public record Partition(Path path, Duration duration) implements Action {
        public String verb() { return "partition"; }
        public boolean onDevices() { return true; }
    }

    public record Heal(Path path) implements Action {
        public String verb() { return "heal"; }
        public boolean onDevices() { return true; }
    }

    /** {@code times} rounds of: partitioned for {@code down}, then healed for {@code up}. */
    public record Flap(Path path, Duration down, Duration up, int times) implements Action {
        public String verb() { return "flap"; }
        public boolean onDevices() { return true; }
    }

    /**
     * Power lost at once (the agent is abandoned mid-step), back after {@code off}: the bootloader runs, a new agent starts.
     * {@code inHandover}: not now, but at the unit's next reboot handover, after the agent set the trial boot (or
     * marked a slot bad) and asked for the reboot, before the bootloader runs.
     */
    public record PowerCut(Duration off, boolean inHandover) implements Action {
        public String verb() { return "power-cut"; }
        public boolean onDevices() { return true; }
    }

    public record PowerOff() implements Action {
        public String verb() { return "power-off"; }
        public boolean onDevices() { return true; }
    }

    public record PowerOn() implements Action {
        public String verb() { return "power-on"; }
        public boolean onDevices() { return true; }
    }

    public record Start(String release, String reason) implements Action {
        public String verb() { return "start"; }
    }

    public record Advance(String release, String reason) implements Action {
        public String verb() { return "advance"; }
    }

    public record Pause(String release, String reason) implements Action {
        public String verb() { return "pause"; }
    }

    /** Resumes, acknowledging every open pause event (the report shows what was acknowledged). */
    public record Resume(String release, String reason) implements Action {
        public String verb() { return "resume"; }
    }

    /** @param scope rollout | phase | cohort | device; with {@code phase} (index), {@code cohort} (name) or {@code device} */
    public record Rollback(String release, String scope, Integer phase, String cohort, String device, String reason) implements Action {
        public String verb() { return "rollback"; }
    }

    /** An incident tool's webhook: {@code POST /api/v1/incidents}. */
    public record Incident(String id, String severity, String state, String release, String title) implements Action {
        public String verb() { return "incident"; }
    }

    /**
     * The units' application KPIs move to these values for {@code duration} whatever release runs
     * (rush hour, a storm, a backhaul outage: something every unit of a corridor shares); null
     * values stay as the release makes them.
     */
    public record Degrade(Double availability, Double lagMedianMs, Double lagP95Ms, Double droppedRatio, Duration duration) implements Action {
        public String verb() { return "degrade"; }
        public boolean onDevices() { return true; }
    }

    /** Release manager extends the current phase's observation window by {@code by}. */
    public record Extend(String release, Duration by, String reason) implements Action {
        public String verb() { return "extend"; }
    }

    /** Operator clears a unit's needs_investigation flag. */
    public record Clear(String release, String device, String reason) implements Action {
        public String verb() { return "clear"; }
    }

    /**
     * A technician at the unit types {@code rsu-agent COMMAND} (lock, unlock, install, activate, rollback, cancel)
     * while its daemon runs: the real CLI, through the daemon's control socket. {@code release}: for install, the
     * lab's signed bundle of that release, as a file (the USB stick), installed download-only.
     */
    public record Technician(String command, String release, String reason) implements Action {
        public static final java.util.Set<String> COMMANDS = java.util.Set.of("lock", "unlock", "install", "activate", "rollback", "cancel");

        public String verb() { return "technician"; }
        public boolean onDevices() { return true; }
    }

    /** The controller process stops (its embedded broker with it) and starts again over its data after {@code off}. */
    public record RestartController(Duration off) implements Action {
        public String verb() { return "restart-controller"; }
    }
}
