package rsuota.hal.boot.uboot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.BootState;
import rsuota.hal.boot.Slot;
import rsuota.hal.exec.ExternalCommand;

/**
 * UBootControl against the real fw_printenv/fw_setenv (libubootenv-tool) on file-backed envs:
 * one copy ("env.bin 0x0 0x4000") and a redundant pair (two lines, two files).
 */
class UBootControlTest {

    /** What the defaults file (and so U-Boot's built-in env) says: A first, full tries. */
    static final String DEFAULTS = "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n";
    static final int ENV_SIZE = 0x4000;

    enum Layout { SINGLE, REDUNDANT }

    @TempDir
    Path dir;

    /** A file-backed env as a box would have it: device files of the env's size, a config, defaults. */
    record Rig(Path config, Path defaults, List<Path> envFiles) {
        UBootControl control() {
            return new UBootControl(config, defaults, 3, () -> Slot.A);
        }
    }

    Rig rig(Layout layout, String defaults) throws IOException {
        List<Path> files = new ArrayList<>(List.of(dir.resolve("env.bin")));
        if (layout == Layout.REDUNDANT) files.add(dir.resolve("env-redund.bin"));
        StringBuilder config = new StringBuilder("# device  offset  size\n");
        for (Path f : files) {
            // Both copies of a redundant env must have the env's size: libubootenv 0.3.2 cannot
            // read a pair where one file is shorter and then reports the whole env unreadable.
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(ENV_SIZE);
            }
            config.append(f).append(" 0x0 0x").append(Integer.toHexString(ENV_SIZE)).append('\n');
        }
        Path configFile = Files.writeString(dir.resolve("fw_env.config"), config);
        Path defaultsFile = Files.writeString(dir.resolve("u-boot-initial-env"), defaults);
        return new Rig(configFile, defaultsFile, files);
    }

    /** The env as the real tool prints it, independent of UBootControl's parsing. */
    static String fwPrintenv(Rig rig) throws IOException {
        ExternalCommand.Result r = ExternalCommand.run(
                List.of("fw_printenv", "-c", rig.config().toString(), "-f", rig.defaults().toString()),
                Duration.ofSeconds(30));
        assertThat(r.exitCode()).as("fw_printenv: %s", r.stderr()).isZero();
        return r.stdout();
    }

    static void fwSetenv(Rig rig, String script) throws IOException {
        Path s = Files.writeString(rig.config().resolveSibling("script.txt"), script);
        ExternalCommand.Result r = ExternalCommand.run(List.of("fw_setenv", "-c", rig.config().toString(),
                "-f", rig.defaults().toString(), "-s", s.toString()), Duration.ofSeconds(30));
        assertThat(r.exitCode()).as("fw_setenv: %s", r.stderr()).isZero();
    }

    static BootState state(List<Slot> order, int a, int b) {
        return new BootState(Slot.A, order, Map.of(Slot.A, a, Slot.B, b), Map.of(Slot.A, a > 0, Slot.B, b > 0));
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void roundTripsThroughTheRealTools(Layout layout) throws Exception {
        Rig rig = rig(layout, DEFAULTS);
        UBootControl ctl = rig.control();

        // Blank env: read through the defaults file, as U-Boot would use its built-in env.
        assertThat(ctl.state()).isEqualTo(state(List.of(Slot.A, Slot.B), 3, 3));
        assertThat(ctl.backendName()).isEqualTo("uboot");

        ctl.markGood(Slot.A);
        ctl.markBad(Slot.B);
        assertThat(ctl.state()).isEqualTo(state(List.of(Slot.A, Slot.B), 3, 0));
        assertThat(ctl.state().nextBoot()).isEqualTo(Slot.A);

        ctl.setTrial(Slot.B, 2);
        assertThat(fwPrintenv(rig)).contains("BOOT_ORDER=B A\n", "BOOT_A_LEFT=3\n", "BOOT_B_LEFT=2\n");
        BootState trial = ctl.state();
        assertThat(trial).isEqualTo(state(List.of(Slot.B, Slot.A), 3, 2));
        assertThat(trial.nextBoot()).isEqualTo(Slot.B);
        // The env lives in the files, not in the object.
        assertThat(rig.control().state()).isEqualTo(trial);

        // What the boot script does when booting B: BOOT_B_LEFT 2 -> 1, then the agent commits.
        fwSetenv(rig, "BOOT_B_LEFT=1\n");
        assertThat(ctl.state().triesLeft()).containsEntry(Slot.B, 1);
        ctl.markGood(Slot.B);
        assertThat(ctl.state()).isEqualTo(state(List.of(Slot.B, Slot.A), 3, 3));

        ctl.markBad(Slot.A);
        assertThat(fwPrintenv(rig)).contains("BOOT_ORDER=B A\n", "BOOT_A_LEFT=0\n", "BOOT_B_LEFT=3\n");
        assertThat(ctl.state().nextBoot()).isEqualTo(Slot.B);
        assertThat(ctl.state().good()).containsEntry(Slot.A, false).containsEntry(Slot.B, true);
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void theFirstWriteToABlankEnvNeedsTheDefaultsFile(Layout layout) throws Exception {
        Rig rig = rig(layout, DEFAULTS);
        // Without -f libubootenv falls back to this file; the test relies on its absence here.
        assertThat(Path.of("/etc/u-boot-initial-env")).doesNotExist();
        UBootControl withoutDefaults = new UBootControl(rig.config(), null, 3, () -> Slot.A);

        assertThatThrownBy(() -> withoutDefaults.markGood(Slot.A))
                .isInstanceOf(BootControlException.class)
                .hasMessageStartingWith("uboot backend: fw_printenv exited ")
                .hasMessageContaining("Cannot read environment");

        rig.control().markGood(Slot.A);
        // Once written, the env no longer needs the defaults.
        assertThat(withoutDefaults.state()).isEqualTo(state(List.of(Slot.A, Slot.B), 3, 3));
    }

    @Test
    void missingVariablesReadAsTheBootScriptsDefaultsAndOtherVariablesSurviveWrites() throws Exception {
        Rig rig = rig(Layout.SINGLE, "bootdelay=2\nbootcmd=run rsu_ab\n");
        UBootControl ctl = new UBootControl(rig.config(), rig.defaults(), 2, () -> Slot.B);

        assertThat(ctl.state()).isEqualTo(new BootState(Slot.B, List.of(Slot.A, Slot.B),
                Map.of(Slot.A, 2, Slot.B, 2), Map.of(Slot.A, true, Slot.B, true)));

        ctl.markBad(Slot.A);
        assertThat(fwPrintenv(rig)).contains("bootdelay=2\n", "bootcmd=run rsu_ab\n",
                "BOOT_ORDER=A B\n", "BOOT_A_LEFT=0\n", "BOOT_B_LEFT=2\n");
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
        "BOOT_ORDER,  A C",
        "BOOT_ORDER,  A A",
        "BOOT_A_LEFT, three",
        "BOOT_B_LEFT, -1",
    })
    void garbageInTheEnvIsAnErrorNamingTheVariableAndNothingIsWritten(String name, String value) throws Exception {
        Rig rig = rig(Layout.SINGLE, DEFAULTS);
        fwSetenv(rig, name + "=" + value + "\n");
        byte[] before = Files.readAllBytes(rig.envFiles().get(0));
        UBootControl ctl = rig.control();

        assertThatThrownBy(ctl::state).isInstanceOf(BootControlException.class)
                .hasMessageStartingWith("uboot backend: " + name + "='" + value + "'");
        assertThatThrownBy(() -> ctl.setTrial(Slot.B, 3)).isInstanceOf(BootControlException.class)
                .hasMessageContaining(name);
        assertThat(Files.readAllBytes(rig.envFiles().get(0))).isEqualTo(before);
    }

    @ParameterizedTest
    @CsvSource({"0", "10", "-1"})
    void triesOutsideOneToNineAreRefusedAndNothingIsWritten(int tries) throws Exception {
        Rig rig = rig(Layout.SINGLE, DEFAULTS);
        UBootControl ctl = rig.control();
        ctl.markGood(Slot.A);
        byte[] before = Files.readAllBytes(rig.envFiles().get(0));

        assertThatThrownBy(() -> ctl.setTrial(Slot.B, tries)).isInstanceOf(BootControlException.class)
                .hasMessageStartingWith("uboot backend: setTrial(B, " + tries + ") refused: tries must be 1..9");
        assertThat(Files.readAllBytes(rig.envFiles().get(0))).isEqualTo(before);
    }

    enum Seen { BEFORE, AFTER, DEFAULTS }

    /**
     * Power cut while fw_setenv writes the single env copy: the file holds the first tearAt bytes
     * of the new block and the old bytes after them (a flash write does not truncate).
     *
     * <p>What this means: a single-copy env gives all or nothing per block, never a mix of old and
     * new variables (one CRC covers the block), but "nothing" is the defaults: libubootenv, like
     * U-Boot with its built-in env, ignores a block with a bad CRC. Every slot's state is lost
     * (B's bad mark here), both slots get full tries and the defaults' order decides. That is
     * bootable only because the defaults name a bootable order, and it may boot the older slot:
     * use a redundant env on real boxes.
     */
    @ParameterizedTest(name = "torn at byte {0}: {1}")
    @CsvSource({
        "0,    BEFORE",   // nothing of the new block reached the flash
        "4,    DEFAULTS", // the new CRC over the old data
        "20,   DEFAULTS", // tear inside the variables
        "8192, AFTER",    // past the variables: the rest of the block is zeros in old and new alike
    })
    void aTornWriteOfASingleEnvFallsBackToTheDefaultsWhichBootASlot(int tearAt, Seen expected) throws Exception {
        Rig rig = rig(Layout.SINGLE, DEFAULTS);
        UBootControl ctl = rig.control();
        ctl.markGood(Slot.A);
        ctl.markBad(Slot.B);
        BootState before = ctl.state();
        Path env = rig.envFiles().get(0);
        byte[] oldBytes = Files.readAllBytes(env);

        ctl.setTrial(Slot.B, 3); // the multi-variable change: BOOT_ORDER and BOOT_B_LEFT together
        BootState after = ctl.state();
        tear(env, oldBytes, Files.readAllBytes(env), tearAt);

        BootState seen = ctl.state();
        BootState defaults = state(List.of(Slot.A, Slot.B), 3, 3);
        assertThat(seen).isEqualTo(switch (expected) {
            case BEFORE -> before;
            case AFTER -> after;
            case DEFAULTS -> defaults;
        });
        assertThat(seen.nextBoot()).isNotNull();
        assertThat(seen.good().get(seen.nextBoot())).isTrue();
    }

    /**
     * Power cut while fw_setenv writes a redundant env: libubootenv writes the copy not in use with
     * a higher flag counter; a torn copy fails its CRC and the other, older copy is used. The
     * state seen is exactly the one before or the one after the change.
     */
    @ParameterizedTest(name = "torn at byte {0}: {1}")
    @CsvSource({
        "0,    BEFORE",
        "4,    BEFORE", // new CRC only
        "5,    BEFORE", // new CRC and flag: the newer copy by flag, but its CRC fails
        "20,   BEFORE",
        "8192, AFTER",
    })
    void aTornWriteOfARedundantEnvKeepsTheOlderCopy(int tearAt, Seen expected) throws Exception {
        Rig rig = rig(Layout.REDUNDANT, DEFAULTS);
        UBootControl ctl = rig.control();
        ctl.markGood(Slot.A);
        ctl.markBad(Slot.B); // two writes: both copies now hold a valid env
        BootState before = ctl.state();
        byte[] first = Files.readAllBytes(rig.envFiles().get(0));
        byte[] second = Files.readAllBytes(rig.envFiles().get(1));

        ctl.setTrial(Slot.B, 3);
        BootState after = ctl.state();
        byte[] firstNow = Files.readAllBytes(rig.envFiles().get(0));
        byte[] secondNow = Files.readAllBytes(rig.envFiles().get(1));
        // Exactly one copy, the one not in use, was rewritten.
        assertThat(Arrays.equals(first, firstNow)).isNotEqualTo(Arrays.equals(second, secondNow));
        if (!Arrays.equals(first, firstNow)) {
            tear(rig.envFiles().get(0), first, firstNow, tearAt);
        } else {
            tear(rig.envFiles().get(1), second, secondNow, tearAt);
        }

        BootState seen = ctl.state();
        assertThat(seen).isEqualTo(expected == Seen.BEFORE ? before : after);
        assertThat(seen.nextBoot()).isEqualTo(expected == Seen.BEFORE ? Slot.A : Slot.B);
        assertThat(seen.good().get(seen.nextBoot())).isTrue();
    }

    @Test
    void aToolFailureIsABootControlExceptionWithTheToolsMessage() throws Exception {
        Path missingDir = dir.resolve("no-such-dir");
        Path config = Files.writeString(dir.resolve("fw_env.config"), missingDir.resolve("env.bin") + " 0x0 0x4000\n");
        Path defaults = Files.writeString(dir.resolve("defaults"), DEFAULTS);
        UBootControl ctl = new UBootControl(config, defaults, 3, () -> Slot.A);

        assertThatThrownBy(ctl::state).isInstanceOf(BootControlException.class)
                .hasMessageStartingWith("uboot backend: fw_printenv exited ")
                .hasMessageContaining("Configuration file wrong or corrupted")
                .hasMessageContaining(config.toString());
        assertThatThrownBy(() -> ctl.setTrial(Slot.B, 3)).isInstanceOf(BootControlException.class)
                .hasMessageContaining("Configuration file wrong or corrupted");
        assertThat(missingDir).doesNotExist();
    }

    @Test
    void theBootedSlotComesFromTheSourceNotTheEnv() throws Exception {
        Rig rig = rig(Layout.SINGLE, DEFAULTS);
        UBootControl ctl = new UBootControl(rig.config(), rig.defaults(), 3, () -> {
            throw new BootControlException("booted slot: no rsu.slot= parameter in /proc/cmdline");
        });
        assertThatThrownBy(ctl::booted).hasMessageContaining("no rsu.slot=");
        assertThatThrownBy(ctl::inactive).hasMessageContaining("no rsu.slot=");
        assertThat(new UBootControl(rig.config(), rig.defaults(), 3, () -> Slot.B).inactive()).isEqualTo(Slot.A);
    }

    static void tear(Path file, byte[] oldBytes, byte[] newBytes, int at) throws IOException {
        byte[] torn = oldBytes.clone();
        System.arraycopy(newBytes, 0, torn, 0, at);
        Files.write(file, torn);
    }
}
