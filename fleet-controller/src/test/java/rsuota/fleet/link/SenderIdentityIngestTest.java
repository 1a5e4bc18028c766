package rsuota.fleet.link;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/**
 * The KPI ingest takes a unit's word only for itself: a state message that the broker stamped as
 * sent by another unit than the one its topic names is refused (SENDER_MISMATCH) and feeds no
 * window, while the same message from its own unit, or through a broker that does not stamp
 * senders, is taken.
 */
class SenderIdentityIngestTest {
    @TempDir
    Path dir;

    @Test
    void aStateMessageWhoseTopicNamesAnotherUnitThanItsSenderIsRefused() throws Exception {
        try (RunningController rc = new RunningController(new TestPki(), dir)) {
            TelemetryIngest ingest = rc.controller.ingest();
            TelemetryIngest.Message forged = DeviceMessages.state("unit-b", "rsu-a1", "i-5", "idle", null, 0, DeviceMessages.GOOD);
            assertThat(ingest.accept(List.of(new TelemetryIngest.Message(forged.topic(), forged.payload(), "unit-a")))).isZero();
            assertThat(ingest.refusals()).containsEntry(TelemetryIngest.Refusal.SENDER_MISMATCH, 1L);
            assertThat(rc.controller.devices().list()).isEmpty();

            assertThat(ingest.accept(List.of(new TelemetryIngest.Message(forged.topic(), forged.payload(), "unit-b")))).isEqualTo(1);
            TelemetryIngest.Message unstamped = DeviceMessages.state("unit-c", "rsu-a1", "i-5", "idle", null, 0, DeviceMessages.GOOD);
            assertThat(ingest.accept(List.of(unstamped))).isEqualTo(1);
            assertThat(rc.controller.devices().list()).extracting(d -> d.id()).containsExactlyInAnyOrder("unit-b", "unit-c");
        }
    }
}
