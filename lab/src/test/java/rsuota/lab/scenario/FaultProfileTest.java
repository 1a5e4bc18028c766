package rsuota.lab.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FaultProfileTest {
    @TempDir Path tmp;

    @Test
    void headerRoundTripsThroughASlot() throws Exception {
        FaultProfile p = new FaultProfile(List.of("rsu-b2"), true, false,
                new FaultProfile.Degrade(Duration.ofSeconds(6), Duration.ofSeconds(1), 0.97, 2500.0, null, null, null));
        byte[] header = p.header();
        assertThat(header).hasSize(FaultProfile.HEADER_BYTES);
        Path slot = tmp.resolve("slot-b.img");
        byte[] image = new byte[64 * 1024];
        System.arraycopy(header, 0, image, 0, header.length);
        Files.write(slot, image);

        assertThat(FaultProfile.ofSlot(slot)).isEqualTo(p);
    }

    @Test
    void anImageWithoutAHeaderRunsANominalApplication() throws Exception {
        Path zeros = tmp.resolve("slot-a.img");
        Files.write(zeros, new byte[8192]);
        assertThat(FaultProfile.ofSlot(zeros)).isEqualTo(FaultProfile.NOMINAL);
        assertThat(FaultProfile.ofSlot(tmp.resolve("missing.img"))).isEqualTo(FaultProfile.NOMINAL);
    }

    @Test
    void variantsLimitWhereTheFaultsApply() {
        FaultProfile p = new FaultProfile(List.of("rsu-b2"), false, true, null);
        assertThat(p.appliesTo("rsu-b2")).isTrue();
        assertThat(p.appliesTo("rsu-a1")).isFalse();
        assertThat(FaultProfile.NOMINAL.appliesTo("anything")).isTrue();
        assertThat(p.describe()).isEqualTo("health probe fails (only rsu-b2)");
    }
}
