package rsuota.hal.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemdNotifierTest {

    @TempDir
    Path dir;

    @Test
    void readyStatusAndWatchdogArriveAsDatagramsOnARealSocket() throws Exception {
        String path = dir.resolve("notify.sock").toString();
        try (DatagramReceiver rx = new DatagramReceiver(path)) {
            SystemdNotifier n = new SystemdNotifier(path);
            assertThat(n.enabled()).isTrue();
            n.ready();
            n.status("downloading 3/10\nchunks");
            n.kick();
            n.send("READY=1\nSTATUS=two assignments");
            await().until(() -> rx.datagrams().size() == 4);
            assertThat(rx.datagrams()).containsExactly(
                    "READY=1", "STATUS=downloading 3/10 chunks", "WATCHDOG=1", "READY=1\\nSTATUS=two assignments");
        }
    }

    @Test
    void abstractSocketNamesWork() throws Exception {
        String name = "@rsu-ota-test-" + UUID.randomUUID();
        try (DatagramReceiver rx = new DatagramReceiver(name)) {
            new SystemdNotifier(name).ready();
            await().until(() -> rx.datagrams().contains("READY=1"));
        }
    }

    @Test
    void aMissingSocketFailsWithThePathAndErrno() {
        String path = dir.resolve("nobody-listens.sock").toString();
        assertThatThrownBy(() -> new SystemdNotifier(path).ready())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("sending 'READY=1' to " + path + " failed")
                .hasMessageContaining("errno 2");
    }

    @Test
    void withoutANotifySocketEverythingIsANoOp() throws Exception {
        SystemdNotifier n = new SystemdNotifier(null);
        assertThat(n.enabled()).isFalse();
        assertThat(n.send("READY=1")).isFalse();
        n.kick();
        assertThat(n.describe()).contains("disabled");
    }

    @Test
    void aPathLongerThanSunPathIsRefusedUpFront() {
        assertThatThrownBy(() -> new SystemdNotifier("/" + "x".repeat(120)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("longer than 107 bytes");
    }

    @Test
    void watchdogIntervalIsHalfOfWatchdogUsecForThisProcessOnly() {
        String me = Long.toString(ProcessHandle.current().pid());
        assertThat(SystemdNotifier.watchdogInterval(Map.of("WATCHDOG_USEC", "30000000"))).contains(Duration.ofSeconds(15));
        assertThat(SystemdNotifier.watchdogInterval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", me)))
                .contains(Duration.ofSeconds(15));
        assertThat(SystemdNotifier.watchdogTimeout(Map.of("WATCHDOG_USEC", "30000000"))).contains(Duration.ofSeconds(30));
        assertThat(SystemdNotifier.watchdogInterval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "1"))).isEmpty();
        assertThat(SystemdNotifier.watchdogInterval(Map.of())).isEmpty();
        assertThatThrownBy(() -> SystemdNotifier.watchdogInterval(Map.of("WATCHDOG_USEC", "30s")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("WATCHDOG_USEC=30s");
        assertThatThrownBy(() -> SystemdNotifier.watchdogInterval(Map.of("WATCHDOG_USEC", "0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive");
    }
}
