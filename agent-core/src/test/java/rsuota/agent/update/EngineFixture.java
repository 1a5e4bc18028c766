package rsuota.agent.update;

import rsuota.fixtures.time.SettableClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import rsuota.agent.download.HttpBundleSource;
import rsuota.agent.download.RetryPolicy;
import rsuota.agent.download.Sleeper;
import rsuota.agent.report.EventSink;
import rsuota.fixtures.pki.TestPki;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.Slot;
import rsuota.hal.boot.sim.SimulatedBootControl;
import rsuota.hal.storage.FileSlotStorage;
import rsuota.hal.storage.SlotStorage;

/** A simulated device directory and the parts an engine needs, for engine tests. */
final class EngineFixture {
    static final TestPki PKI = new TestPki();

    final Path dir;
    final Path stateDir;
    final SimulatedBootControl boot;
    SlotStorage storage;
    final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());
    final List<EventSink.Draft> events = Collections.synchronizedList(new ArrayList<>());
    RetryPolicy retry = new RetryPolicy(Duration.ofMillis(1), Duration.ofMillis(5), 6);
    Duration stall = Duration.ofSeconds(5);
    String variant = "rsu-a1";
    CrashHook hook = CrashHook.NONE;
    /** Settable time for windows, commit windows and budgets. */
    final SettableClock clock = new SettableClock(java.time.Instant.parse("2026-11-27T12:00:00Z"));
    rsuota.agent.activation.WindowSchedule schedule = rsuota.agent.activation.WindowSchedule.anyTime();
    rsuota.agent.activation.Inhibitors inhibitors = rsuota.agent.activation.Inhibitors.none();
    /** Health of each slot as the probe sees it; the trial slot B is healthy unless a test says otherwise. */
    final java.util.Map<Slot, Boolean> healthy = new java.util.concurrent.ConcurrentHashMap<>(java.util.Map.of(Slot.A, true, Slot.B, true));
    Duration requiredPassing = Duration.ofMinutes(2);
    Duration commitWindow = Duration.ofMinutes(10);
    Duration rollbackBudget = Duration.ofMinutes(15);
    boolean strictSignatures;
    /** Reboots the engine asked for; each runs the simulated bootloader like a power-on. */
    final List<String> reboots = Collections.synchronizedList(new ArrayList<>());

    EngineFixture(Path dir, long slotSize) throws IOException, BootControlException {
        this.dir = dir;
        this.stateDir = dir.resolve("state");
        Files.createDirectories(stateDir);
        this.storage = FileSlotStorage.createSimulated(dir, slotSize);
        this.boot = SimulatedBootControl.create(dir.resolve("boot"), Slot.A, 3);
    }

    /** Records delays instead of sleeping them: retry tests run in milliseconds. */
    final Sleeper sleeper = d -> sleeps.add(d);

    UpdateEngine.Parts parts() throws BootControlException {
        SimulatedBootControl bc = SimulatedBootControl.open(dir.resolve("boot"));
        rsuota.agent.health.HealthProbe probe = new rsuota.agent.health.HealthProbe.ControllerReachable(() -> {
            try {
                return healthy.get(bc.booted());
            } catch (BootControlException e) {
                return false;
            }
        });
        rsuota.agent.health.HealthConfig health = new rsuota.agent.health.HealthConfig(
                List.of(new rsuota.agent.health.HealthConfig.ProbeSpec(probe, 0)), commitWindow, requiredPassing, Duration.ofSeconds(10), null);
        return new UpdateEngine.Parts(bc, storage, PKI.keyring(), variant, false, strictSignatures, "1.0.0",
                retry, new HttpBundleSource.Options(Duration.ofSeconds(5), Duration.ofSeconds(5), stall, null),
                d -> events.add(d), clock, sleeper, hook,
                new rsuota.hal.power.SimulatedReboot(reason -> reboots.add(reason)), schedule, inhibitors, health, 3, rollbackBudget);
    }

    /** Power-on after a reboot or a power cut: the simulated bootloader picks the slot. */
    Slot powerOn() throws BootControlException {
        return boot.simulateBoot();
    }

    /** A fresh engine over the same directory, as after a restart. */
    UpdateEngine engine() throws IOException, BootControlException {
        return new UpdateEngine(stateDir, parts());
    }

    EngineState.Order order(String source, boolean downloadOnly) {
        return new EngineState.Order(source, null, null, 0, downloadOnly, null);
    }

    byte[] slotBytes(Slot s, int len) throws IOException {
        byte[] all = Files.readAllBytes(dir.resolve(s == Slot.A ? FileSlotStorage.SIMULATED_A : FileSlotStorage.SIMULATED_B));
        return java.util.Arrays.copyOf(all, len);
    }
}
