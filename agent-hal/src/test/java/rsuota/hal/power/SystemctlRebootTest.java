package rsuota.hal.power;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real systemctl would reboot the test machine: these tests configure a stand-in command. */
class SystemctlRebootTest {

    @TempDir
    Path dir;

    @Test
    void theDefaultCommandIsSystemctlReboot() {
        assertThat(SystemctlReboot.DEFAULT_COMMAND).containsExactly("systemctl", "reboot");
    }

    @Test
    void runsTheConfiguredCommand() throws Exception {
        Path marker = dir.resolve("rebooted");
        new SystemctlReboot(List.of("touch", marker.toString())).reboot("trial boot of slot B");
        assertThat(marker).exists();
    }

    @Test
    void aFailingCommandIsAnErrorWithExitCodeAndStderr() {
        SystemctlReboot reboot = new SystemctlReboot(
                List.of("sh", "-c", "echo 'Failed to reboot system via logind: Access denied' >&2; exit 1"));

        assertThatThrownBy(() -> reboot.reboot("trial boot of slot B")).isInstanceOf(IOException.class)
                .hasMessageStartingWith("reboot (trial boot of slot B): sh -c ")
                .hasMessageContaining("exited 1: Failed to reboot system via logind: Access denied");
    }

    @Test
    void aMissingProgramIsAnError() {
        SystemctlReboot reboot = new SystemctlReboot(List.of(dir.resolve("systemctl").toString(), "reboot"));
        assertThatThrownBy(() -> reboot.reboot("rollback")).isInstanceOf(IOException.class)
                .hasMessageStartingWith("reboot (rollback): ")
                .hasMessageContaining(dir.resolve("systemctl").toString());
        assertThat(Files.exists(dir.resolve("systemctl"))).isFalse();
    }

    @Test
    void anEmptyCommandIsRefused() {
        assertThatThrownBy(() -> new SystemctlReboot(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
