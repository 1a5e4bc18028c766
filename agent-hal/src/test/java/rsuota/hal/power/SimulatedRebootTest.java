package rsuota.hal.power;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SimulatedRebootTest {

    @Test
    void handsTheReasonToTheLabsCallback() throws Exception {
        List<String> reasons = new ArrayList<>();
        Reboot reboot = new SimulatedReboot(reasons::add);

        reboot.reboot("trial boot of slot B");
        reboot.reboot("rollback");

        assertThat(reasons).containsExactly("trial boot of slot B", "rollback");
    }

    @Test
    void aRunnableCallbackIsRunOncePerReboot() throws Exception {
        AtomicInteger restarts = new AtomicInteger();
        Runnable restartAgent = restarts::incrementAndGet;
        Reboot reboot = new SimulatedReboot(restartAgent);

        reboot.reboot("trial boot of slot B");

        assertThat(restarts).hasValue(1);
    }

    @Test
    void aFailingCallbackReachesTheCaller() {
        Reboot reboot = new SimulatedReboot(reason -> {
            throw new IOException("lab: could not restart the agent");
        });
        assertThatThrownBy(() -> reboot.reboot("x")).isInstanceOf(IOException.class)
                .hasMessage("lab: could not restart the agent");
    }
}
