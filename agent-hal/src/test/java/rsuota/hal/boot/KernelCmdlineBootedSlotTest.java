package rsuota.hal.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KernelCmdlineBootedSlotTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "[{0}] {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
        "rauc.slot | console=ttyS0 root=/dev/mmcblk0p2 rauc.slot=A quiet | A",
        "rauc.slot | rauc.slot=B                                          | B",
        "rsu.slot  | root=LABEL=rootfs-b ro panic=30 rsu.slot=B          | B",
        "rsu.slot  | rsu.slot=\"A\" quiet                                  | A",
        "rsu.slot  | rsu.slot=A rsu.slot=B                                | B",
        "rsu.slot  | xrsu.slot=A rsu.slot=b                               | B",
    })
    void readsTheSlotFromTheCommandLine(String key, String cmdline, Slot expected) throws Exception {
        Path file = Files.writeString(dir.resolve("cmdline"), cmdline + "\n");
        assertThat(new KernelCmdlineBootedSlot(file, key).bootedSlot()).isEqualTo(expected);
    }

    @Test
    void aMissingKeyIsAnErrorNamingKeyAndFile() throws Exception {
        Path file = Files.writeString(dir.resolve("cmdline"), "root=/dev/sda2 xrauc.slot=A\n");
        assertThatThrownBy(() -> new KernelCmdlineBootedSlot(file, "rauc.slot").bootedSlot())
                .isInstanceOf(BootControlException.class)
                .hasMessageContaining("no rauc.slot= parameter in " + file);
    }

    @Test
    void aValueThatIsNoSlotIsAnError() throws Exception {
        Path file = Files.writeString(dir.resolve("cmdline"), "rauc.slot=recovery\n");
        assertThatThrownBy(() -> new KernelCmdlineBootedSlot(file, "rauc.slot").bootedSlot())
                .isInstanceOf(BootControlException.class)
                .hasMessageContaining("rauc.slot=recovery")
                .hasMessageContaining("expected A or B");
    }

    @Test
    void anUnreadableFileIsAnError() {
        Path missing = dir.resolve("no-such-cmdline");
        assertThatThrownBy(() -> new KernelCmdlineBootedSlot(missing, "rsu.slot").bootedSlot())
                .isInstanceOf(BootControlException.class)
                .hasMessageContaining("cannot read " + missing);
    }

    @Test
    void theFileIsReadAtEveryCall() throws Exception {
        Path file = Files.writeString(dir.resolve("cmdline"), "rsu.slot=A\n");
        KernelCmdlineBootedSlot source = new KernelCmdlineBootedSlot(file, "rsu.slot");
        assertThat(source.bootedSlot()).isEqualTo(Slot.A);
        Files.writeString(file, "rsu.slot=B\n");
        assertThat(source.bootedSlot()).isEqualTo(Slot.B);
    }

    @Test
    void aKeyContainingEqualsIsRefused() {
        assertThatThrownBy(() -> new KernelCmdlineBootedSlot(dir.resolve("x"), "rsu.slot="))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
