package rsuota.hal.boot.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.BootState;
import rsuota.hal.boot.Slot;

class SimulatedBootControlTest {

    @TempDir
    Path dir;

    @Test
    void createInitialisesAFreshEnvInTheDirectory() throws Exception {
        SimulatedBootControl sim = SimulatedBootControl.create(dir.resolve("boot"), Slot.B, 3);

        assertThat(sim.envFile()).exists();
        assertThat(sim.booted()).isEqualTo(Slot.B);
        assertThat(sim.inactive()).isEqualTo(Slot.A);
        assertThat(sim.state()).isEqualTo(new BootState(Slot.B, List.of(Slot.B, Slot.A),
                Map.of(Slot.A, 3, Slot.B, 3), Map.of(Slot.A, true, Slot.B, true)));
        assertThat(sim.backendName()).isEqualTo("sim");
    }

    @Test
    void aTrialWithThreeTriesAndThreeHungBootsFallsBackToTheOtherSlot() throws Exception {
        SimulatedBootControl sim = SimulatedBootControl.create(dir, Slot.A, 3);
        sim.setTrial(Slot.B, 3);

        assertThat(sim.simulateHang()).isEqualTo(Slot.B);
        assertThat(sim.simulateHang()).isEqualTo(Slot.B);
        assertThat(sim.simulateHang()).isEqualTo(Slot.B);
        // No agent ran during the hangs: the last slot that reached userspace is still A.
        assertThat(sim.booted()).isEqualTo(Slot.A);
        assertThat(sim.state().triesLeft()).containsEntry(Slot.B, 0);

        assertThat(sim.simulateBoot()).isEqualTo(Slot.A);
        // A restarted agent sees it runs the old slot: the update failed to boot.
        SimulatedBootControl afterReboot = SimulatedBootControl.open(dir);
        assertThat(afterReboot.booted()).isEqualTo(Slot.A);
        assertThat(afterReboot.state().good()).containsEntry(Slot.B, false);
        assertThat(afterReboot.state().triesLeft()).containsEntry(Slot.A, 2);
    }

    @Test
    void markGoodKeepsTheSlotAcrossReboots() throws Exception {
        SimulatedBootControl sim = SimulatedBootControl.create(dir, Slot.A, 3);
        sim.setTrial(Slot.B, 3);

        for (int boot = 0; boot < 10; boot++) {
            assertThat(sim.simulateBoot()).as("boot %d", boot).isEqualTo(Slot.B);
            // The agent marks good after every healthy boot, as RAUC's mark-good service does.
            SimulatedBootControl.open(dir).markGood(Slot.B);
        }
        assertThat(sim.state().triesLeft()).containsEntry(Slot.B, 3);
    }

    @Test
    void aCommittedSlotNotMarkedGoodAfterEachBootRunsOutOfTriesLikeOnUBoot() throws Exception {
        SimulatedBootControl sim = SimulatedBootControl.create(dir, Slot.A, 3);
        sim.setTrial(Slot.B, 3);
        sim.simulateBoot();
        sim.markGood(Slot.B);

        assertThat(List.of(sim.simulateBoot(), sim.simulateBoot(), sim.simulateBoot(), sim.simulateBoot()))
                .containsExactly(Slot.B, Slot.B, Slot.B, Slot.A);
    }

    @Test
    void aSlotMarkedBadIsNeverBooted() throws Exception {
        SimulatedBootControl sim = SimulatedBootControl.create(dir, Slot.A, 3);
        sim.setTrial(Slot.B, 3);
        sim.markBad(Slot.B); // first in the order, but no tries

        assertThat(sim.state().order()).containsExactly(Slot.B, Slot.A);
        for (int boot = 0; boot < 10; boot++) {
            assertThat(sim.simulateBoot()).as("boot %d", boot).isEqualTo(Slot.A);
            sim.markGood(Slot.A);
        }
        assertThat(sim.state().good()).containsEntry(Slot.B, false);
    }

    @Test
    void withNoBootableSlotTheTriesAreResetAndTheFirstInOrderBoots() throws Exception {
        SimulatedBootControl sim = SimulatedBootControl.create(dir, Slot.A, 3);
        sim.setTrial(Slot.B, 1);
        sim.markBad(Slot.A);
        assertThat(sim.simulateHang()).isEqualTo(Slot.B);
        assertThat(sim.state().nextBoot()).isNull();

        assertThat(sim.simulateBoot()).isEqualTo(Slot.B);
        assertThat(sim.state().triesLeft()).isEqualTo(Map.of(Slot.A, 3, Slot.B, 2));
    }

    @Test
    void theEnvPersistsAcrossInstancesOverTheSameDirectory() throws Exception {
        SimulatedBootControl first = SimulatedBootControl.create(dir, Slot.A, 2);
        first.setTrial(Slot.B, 2);

        SimulatedBootControl second = SimulatedBootControl.open(dir);
        assertThat(second.state()).isEqualTo(first.state());
        assertThat(second.simulateBoot()).isEqualTo(Slot.B);

        // The first instance re-reads the file: it sees the boot the second one did.
        assertThat(first.booted()).isEqualTo(Slot.B);
        assertThat(first.state().triesLeft()).isEqualTo(Map.of(Slot.A, 2, Slot.B, 1));
        // The default tries are part of the env, like U-Boot's compiled-in script.
        second.markGood(Slot.B);
        assertThat(first.state().triesLeft()).containsEntry(Slot.B, 2);
        // Writes go through a temp file that is renamed away.
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(first.envFile());
        }
    }

    @Test
    void openWithoutAnEnvSaysHowToMakeOne() {
        assertThatThrownBy(() -> SimulatedBootControl.open(dir)).isInstanceOf(BootControlException.class)
                .hasMessageContaining("no simulated boot env at " + dir.resolve(SimulatedBootControl.ENV_FILE))
                .hasMessageContaining("SimulatedBootControl.create");
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
        "BOOT_ORDER,    A Z",
        "BOOT_B_LEFT,   many",
        "BOOTED,        C",
        "DEFAULT_TRIES, 0",
    })
    void garbageInTheEnvFileIsAnErrorNamingTheVariable(String name, String value) throws Exception {
        SimulatedBootControl sim = SimulatedBootControl.create(dir, Slot.A, 3);
        String text = Files.readString(sim.envFile());
        Files.writeString(sim.envFile(), text.replaceAll("(?m)^" + name + "=.*$", name + "=" + value));

        assertThatThrownBy(sim::state).isInstanceOf(BootControlException.class)
                .hasMessageStartingWith("sim backend: " + name + "='" + value + "'");
    }

    @ParameterizedTest
    @CsvSource({"0", "10"})
    void triesOutsideOneToNineAreRefusedAsOnUBoot(int tries) throws Exception {
        SimulatedBootControl sim = SimulatedBootControl.create(dir, Slot.A, 3);
        assertThatThrownBy(() -> sim.setTrial(Slot.B, tries)).isInstanceOf(BootControlException.class)
                .hasMessageContaining("tries must be 1..9");
        assertThat(sim.state().order()).containsExactly(Slot.A, Slot.B);
    }

    @Test
    void createReplacesAnExistingEnv() throws Exception {
        SimulatedBootControl.create(dir, Slot.A, 3).markBad(Slot.B);
        SimulatedBootControl fresh = SimulatedBootControl.create(dir, Slot.A, 3);
        assertThat(fresh.state().triesLeft()).isEqualTo(Map.of(Slot.A, 3, Slot.B, 3));
    }
}
