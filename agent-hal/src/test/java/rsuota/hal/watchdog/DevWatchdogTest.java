package rsuota.hal.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Never the machine's /dev/watchdog: opening it would arm a real reset timer. */
class DevWatchdogTest {

    @TempDir
    Path dir;

    @Test
    void kicksAndMagicCloseOnAPlainFile() throws Exception {
        Path dev = Files.createFile(dir.resolve("watchdog"));
        DevWatchdog wd = DevWatchdog.open(dev);
        wd.kick();
        wd.kick();
        wd.close();
        wd.close();
        assertThat(Files.readString(dev)).isEqualTo("11V");
        assertThatThrownBy(wd::kick).isInstanceOf(IOException.class).hasMessageContaining("already closed");
    }

    @Test
    void kicksAndMagicCloseThroughANamedPipe() throws Exception {
        Path fifo = dir.resolve("watchdog.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(mkfifo.exitValue()).isZero();
        // The reader stands in for the driver; it sees EOF when the watchdog is closed.
        CompletableFuture<String> driver = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(Files.readAllBytes(fifo), StandardCharsets.US_ASCII);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        try (DevWatchdog wd = DevWatchdog.open(fifo)) {
            wd.kick();
            wd.kick();
            wd.kick();
        }
        assertThat(driver.get(20, TimeUnit.SECONDS)).isEqualTo("111V");
    }

    @Test
    void aMissingDeviceFailsAndIsNotCreated() {
        Path missing = dir.resolve("watchdog0");
        assertThatThrownBy(() -> DevWatchdog.open(missing))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("watchdog device " + missing + " does not exist");
        assertThat(missing).doesNotExist();
    }
}
