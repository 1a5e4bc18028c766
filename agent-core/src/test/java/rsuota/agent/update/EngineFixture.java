package rsuota.agent.update;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
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
        return new UpdateEngine.Parts(SimulatedBootControl.open(dir.resolve("boot")), storage, PKI.keyring(), variant, false, "1.0.0",
                retry, new HttpBundleSource.Options(Duration.ofSeconds(5), Duration.ofSeconds(5), stall, null),
                d -> events.add(d), Clock.systemUTC(), sleeper, hook);
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
