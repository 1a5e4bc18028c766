package rsuota.agent.activation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.hal.gpio.Gpio;
import rsuota.hal.gpio.SimulatedGpio;

class InhibitorsTest {

    private static final int DOOR = 17;
    private static final int SWITCH = 27;

    @TempDir
    Path stateDir;

    private final SimulatedGpio gpio = new SimulatedGpio();

    private GpioInhibitor door() throws Exception {
        return new GpioInhibitor("cabinet door", gpio.input(new Gpio.InputPin("door", DOOR, Gpio.Pull.UP)), true, "cabinet door open");
    }

    @Test
    void doorOpenHoldsAndDoorClosedReleases() throws Exception {
        Inhibitors inh = new Inhibitors(List.of(door()));
        assertThat(inh.activeReasons()).isEmpty();
        gpio.setInput(DOOR, true);
        assertThat(inh.activeReasons()).containsExactly("cabinet door open (GPIO input 'door')");
        assertThat(inh.holding()).isTrue();
        gpio.setInput(DOOR, false);
        assertThat(inh.activeReasons()).isEmpty();
    }

    @Test
    void aDoorChangeWakesTheListenerUntilUnsubscribed() throws Exception {
        Inhibitors inh = new Inhibitors(List.of(door()));
        AtomicInteger wakeups = new AtomicInteger();
        Gpio.Subscription sub = inh.onChange(wakeups::incrementAndGet);
        gpio.setInput(DOOR, true);
        gpio.setInput(DOOR, false);
        assertThat(wakeups).hasValue(2);
        sub.close();
        gpio.setInput(DOOR, true);
        assertThat(wakeups).hasValue(2);
    }

    @Test
    void anActiveLowSwitchHoldsWhenLow() throws Exception {
        gpio.setInput(SWITCH, true);
        GpioInhibitor sw = new GpioInhibitor("technician switch", gpio.input(new Gpio.InputPin("switch", SWITCH, Gpio.Pull.UP)),
                false, "technician switch on");
        assertThat(sw.holdReason()).isEmpty();
        gpio.setInput(SWITCH, false);
        assertThat(sw.holdReason()).contains("technician switch on (GPIO input 'switch')");
    }

    @Test
    void anUnreadablePinHoldsToBeSafe() throws Exception {
        GpioInhibitor d = door();
        gpio.failInput(DOOR, "line request failed");
        assertThat(d.holdReason()).hasValueSatisfying(r -> assertThat(r)
                .startsWith("cabinet door state unknown, holding to be safe: ").contains("line request failed"));
    }

    @Test
    void theTechnicianLockSurvivesARestartAndUnlockReleasesIt() throws Exception {
        TechnicianLock lock = new TechnicianLock(stateDir);
        assertThat(lock.holdReason()).isEmpty();
        lock.lock("replacing antenna", "alice", Instant.parse("2026-12-01T09:15:00Z"));

        // A new instance over the same directory: what a restarted agent (or the CLI) sees.
        TechnicianLock again = new TechnicianLock(stateDir);
        assertThat(again.current()).contains(new TechnicianLock.Lock("replacing antenna", "alice", Instant.parse("2026-12-01T09:15:00Z")));
        assertThat(new Inhibitors(List.of(again)).activeReasons())
                .containsExactly("technician lock by alice since 2026-12-01T09:15:00Z: replacing antenna");
        try (var files = Files.list(stateDir)) {
            assertThat(files.map(p -> p.getFileName().toString())).as("no temp file left behind").containsExactly(TechnicianLock.FILE);
        }

        assertThat(again.unlock()).isTrue();
        assertThat(lock.holdReason()).isEmpty();
        assertThat(again.unlock()).as("unlocking twice is harmless").isFalse();
    }

    @Test
    void lockNeedsAReasonAndWho() {
        TechnicianLock lock = new TechnicianLock(stateDir);
        assertThatThrownBy(() -> lock.lock(" ", "alice", Instant.EPOCH)).hasMessageContaining("--reason");
        assertThatThrownBy(() -> lock.lock("x", "", Instant.EPOCH)).hasMessageContaining("who locked");
    }

    @Test
    void aCorruptLockFileHoldsAndSaysHowToClearIt() throws Exception {
        Files.writeString(stateDir.resolve(TechnicianLock.FILE), "{not json");
        TechnicianLock lock = new TechnicianLock(stateDir);
        assertThat(lock.holdReason()).hasValueSatisfying(r -> assertThat(r)
                .contains("technician lock file unreadable").contains(TechnicianLock.FILE).endsWith("run 'rsu-agent unlock' to clear it"));
        assertThat(lock.unlock()).isTrue();
        assertThat(lock.holdReason()).isEmpty();
    }

    @Test
    void onBatteryHoldsFromASysfsStyleFile() throws Exception {
        Path online = stateDir.resolve("online");
        Files.writeString(online, "1\n");
        BatteryInhibitor b = new BatteryInhibitor(new SysfsPowerSource(online));
        assertThat(b.holdReason()).isEmpty();
        Files.writeString(online, "0\n");
        assertThat(b.holdReason()).contains("running on battery (" + online + ")");
        Files.writeString(online, "maybe\n");
        assertThat(b.holdReason()).hasValueSatisfying(r -> assertThat(r)
                .startsWith("power state unknown, holding to be safe").contains("contains 'maybe', expected 1 (mains) or 0 (battery)"));
        Files.delete(online);
        assertThat(b.holdReason()).hasValueSatisfying(r -> assertThat(r).contains("cannot read the power state from " + online));
    }

    @Test
    void aFixedPowerSourceForTheSimulation() {
        assertThat(new BatteryInhibitor(FixedPowerSource.MAINS).holdReason()).isEmpty();
        assertThat(new BatteryInhibitor(FixedPowerSource.BATTERY).holdReason()).contains("running on battery (fixed: battery)");
    }

    @Test
    void allHoldingSourcesAreListedInOrder() throws Exception {
        TechnicianLock lock = new TechnicianLock(stateDir);
        Inhibitors inh = new Inhibitors(List.of(door(), lock, new BatteryInhibitor(FixedPowerSource.BATTERY)));
        gpio.setInput(DOOR, true);
        lock.lock("firmware check", "bob", Instant.parse("2026-12-01T10:00:00Z"));
        assertThat(inh.activeReasons()).containsExactly(
                "cabinet door open (GPIO input 'door')",
                "technician lock by bob since 2026-12-01T10:00:00Z: firmware check",
                "running on battery (fixed: battery)");
        assertThat(Inhibitors.none().activeReasons()).isEmpty();
    }
}
