package rsuota.hal.boot.grub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.BootState;
import rsuota.hal.boot.Slot;
import rsuota.hal.exec.ExternalCommand;

/** GrubControl against the real grub-editenv (grub-common) on a plain grubenv file. */
class GrubControlTest {

    @TempDir
    Path dir;

    Path env;
    GrubControl ctl;

    @BeforeEach
    void setUp() {
        env = dir.resolve("grubenv");
        ctl = new GrubControl(env, () -> Slot.A);
    }

    static String editenv(Path env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("grub-editenv", env.toString()));
        cmd.addAll(List.of(args));
        ExternalCommand.Result r = ExternalCommand.run(cmd, Duration.ofSeconds(30));
        assertThat(r.exitCode()).as("grub-editenv: %s", r.stderr()).isZero();
        return r.stdout();
    }

    static BootState state(Slot booted, List<Slot> order, int a, int b) {
        return new BootState(booted, order, Map.of(Slot.A, a, Slot.B, b), Map.of(Slot.A, a > 0, Slot.B, b > 0));
    }

    @Test
    void aMissingEnvFileIsCreatedOnFirstUseAndReadsAsThePresets() throws Exception {
        assertThat(env).doesNotExist();

        BootState s = ctl.state();

        assertThat(env).exists().hasSize(1024);
        assertThat(Files.readString(env, StandardCharsets.ISO_8859_1)).startsWith("# GRUB Environment Block\n");
        // rsu-ab.cfg's presets: nothing OK, so nextBoot is null; GRUB's last resort boots the first in ORDER.
        assertThat(s).isEqualTo(state(Slot.A, List.of(Slot.A, Slot.B), 0, 0));
        assertThat(s.nextBoot()).isNull();
        assertThat(ctl.backendName()).isEqualTo("grub");
    }

    @Test
    void roundTripsThroughTheRealTool() throws Exception {
        ctl.markGood(Slot.A);
        assertThat(editenv(env, "list")).isEqualTo("ORDER=A B\nA_OK=1\nA_TRY=0\n");
        assertThat(ctl.state()).isEqualTo(state(Slot.A, List.of(Slot.A, Slot.B), 1, 0));

        ctl.markBad(Slot.B);
        ctl.setTrial(Slot.B, 1);
        assertThat(editenv(env, "list")).contains("ORDER=B A\n", "B_OK=1\n", "B_TRY=0\n", "A_OK=1\n");
        assertThat(ctl.state().nextBoot()).isEqualTo(Slot.B);
        // The env lives in the file, not in the object.
        assertThat(new GrubControl(env, () -> Slot.A).state()).isEqualTo(ctl.state());

        // What rsu-ab.cfg saves when it picks B: its one try is used.
        editenv(env, "set", "B_TRY=1");
        BootState booting = ctl.state();
        assertThat(booting.triesLeft()).containsEntry(Slot.B, 0);
        // Rebooting now, without markGood, would fall back to A.
        assertThat(booting.nextBoot()).isEqualTo(Slot.A);

        ctl.markGood(Slot.B);
        assertThat(ctl.state()).isEqualTo(state(Slot.A, List.of(Slot.B, Slot.A), 1, 1));

        ctl.markBad(Slot.A);
        assertThat(editenv(env, "list")).contains("A_OK=0\n", "A_TRY=0\n");
        assertThat(ctl.state().nextBoot()).isEqualTo(Slot.B);
        assertThat(ctl.state().good()).containsEntry(Slot.A, false).containsEntry(Slot.B, true);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 2, 3})
    void triesOtherThanOneAreRefusedAndNothingIsWritten(int tries) throws Exception {
        ctl.markGood(Slot.A);
        byte[] before = Files.readAllBytes(env);

        assertThatThrownBy(() -> ctl.setTrial(Slot.B, tries)).isInstanceOf(BootControlException.class)
                .hasMessageStartingWith("grub backend: setTrial(B, " + tries + ") refused")
                .hasMessageContaining("exactly one boot attempt");
        assertThat(Files.readAllBytes(env)).isEqualTo(before);
    }

    @Test
    void anExistingEnvIsNeverRecreatedAndOtherVariablesSurvive() throws Exception {
        editenv(env, "set", "saved_entry=1", "ORDER=B A", "B_OK=1", "B_TRY=0");

        ctl.markGood(Slot.A);

        assertThat(editenv(env, "list")).contains("saved_entry=1\n", "ORDER=A B\n", "B_OK=1\n", "A_OK=1\n");
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
        "ORDER, A X",
        "ORDER, B B",
        "A_OK,  yes",
        "B_TRY, 2",
    })
    void garbageIsAnErrorNamingTheVariable(String name, String value) throws Exception {
        editenv(env, "set", name + "=" + value);
        assertThatThrownBy(ctl::state).isInstanceOf(BootControlException.class)
                .hasMessageStartingWith("grub backend: " + name + "='" + value + "'");
    }

    /**
     * grub-editenv 2.06 rewrites an existing file in place (truncate, write, fsync): a power cut
     * right after the truncate leaves an empty file, which it then refuses to read or update.
     */
    @Test
    void aTruncatedEnvIsReportedWithWhatToDo() throws Exception {
        ctl.markGood(Slot.A);
        Files.write(env, new byte[0]);

        assertThatThrownBy(ctl::state).isInstanceOf(BootControlException.class)
                .hasMessageContaining("grub-editenv list exited 1: grub-editenv: error: invalid environment block.")
                .hasMessageContaining("grub-editenv " + env + " create");
        assertThatThrownBy(() -> ctl.markGood(Slot.A)).isInstanceOf(BootControlException.class)
                .hasMessageContaining("invalid environment block");
    }

    @Test
    void aToolFailureIsABootControlExceptionWithTheToolsMessage() {
        Path nowhere = dir.resolve("no-such-dir").resolve("grubenv");
        GrubControl broken = new GrubControl(nowhere, () -> Slot.A);

        assertThatThrownBy(() -> broken.markGood(Slot.A)).isInstanceOf(BootControlException.class)
                .hasMessageStartingWith("grub backend: grub-editenv create exited 1: ")
                .hasMessageContaining("cannot open");
    }

    @Test
    void theSampleBootScriptIsValidGrubScriptAndMatchesThePresets() throws Exception {
        String cfg;
        try (InputStream in = GrubControl.class.getResourceAsStream("rsu-ab.cfg")) {
            assertThat(in).as("resource rsuota/hal/boot/grub/rsu-ab.cfg").isNotNull();
            cfg = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Path file = Files.writeString(dir.resolve("rsu-ab.cfg"), cfg);
        ExternalCommand.Result check = ExternalCommand.run(List.of("grub-script-check", file.toString()), Duration.ofSeconds(30));
        assertThat(check.exitCode()).as("grub-script-check: %s", check.stderr()).isZero();

        // GrubControl reads missing variables as these presets; the two must agree.
        assertThat(cfg).contains("set ORDER=\"" + GrubControl.DEFAULT_ORDER + "\"\n",
                "set A_OK=0\n", "set A_TRY=0\n", "set B_OK=0\n", "set B_TRY=0\n",
                "load_env ORDER A_OK A_TRY B_OK B_TRY\n", "save_env ORDER A_OK A_TRY B_OK B_TRY\n",
                "rsu.slot=A", "rsu.slot=B");
    }
}
