package rsuota.lab.device;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.health.JsonFileKpiSource;
import rsuota.lab.scenario.FaultProfile;
import rsuota.wire.MqttState;

class RoadsideAppTest {
    @TempDir Path tmp;
    static final Instant BOOT = Instant.parse("2026-11-27T12:00:00Z");
    static final FaultProfile DEGRADES_ON_B2 = new FaultProfile(List.of("rsu-b2"), false, false,
            new FaultProfile.Degrade(Duration.ofSeconds(10), Duration.ofSeconds(4), 0.97, 2600.0, null, null, null));

    static boolean goNoGo(MqttState.Kpis k) {
        return k.availability() >= 0.995 && k.lagMedianMs() < 2000 && k.lagP95Ms() < 10_000 && k.droppedRatio() < 0.001;
    }

    @Test
    void healthyApplicationStaysInsideTheGoNoGoKpis() throws Exception {
        RoadsideApp app = new RoadsideApp(tmp, "rsu-1", "rsu-a1");
        app.start(FaultProfile.NOMINAL, BOOT);
        for (int i = 0; i < 200; i++) assertThat(goNoGo(app.kpis(BOOT.plusSeconds(i)))).isTrue();
    }

    @Test
    void degradesAfterItsDelayRampsAndOnlyOnItsVariant() throws Exception {
        RoadsideApp b2 = new RoadsideApp(tmp, "rsu-2", "rsu-b2");
        b2.start(DEGRADES_ON_B2, BOOT);
        assertThat(goNoGo(b2.kpis(BOOT.plusSeconds(9)))).as("before the delay").isTrue();
        MqttState.Kpis full = b2.kpis(BOOT.plusSeconds(20));
        assertThat(full.availability()).isBetween(0.95, 0.99);
        assertThat(full.lagMedianMs()).isGreaterThan(2000);
        assertThat(full.lagP95Ms()).as("not part of this profile").isLessThan(10_000);

        RoadsideApp a1 = new RoadsideApp(tmp.resolve("a1"), "rsu-3", "rsu-a1");
        a1.start(DEGRADES_ON_B2, BOOT);
        assertThat(goNoGo(a1.kpis(BOOT.plusSeconds(20)))).isTrue();
    }

    @Test
    void degradationThatRecoversIsHealthyAgainAfterRecoverAfter() throws Exception {
        FaultProfile dip = new FaultProfile(List.of(), false, false,
                new FaultProfile.Degrade(Duration.ofSeconds(10), Duration.ZERO, 0.9, null, null, null, Duration.ofSeconds(5)));
        RoadsideApp app = new RoadsideApp(tmp, "rsu-6", "rsu-a1");
        app.start(dip, BOOT);
        assertThat(goNoGo(app.kpis(BOOT.plusSeconds(9)))).as("before the dip").isTrue();
        assertThat(app.kpis(BOOT.plusSeconds(12)).availability()).as("in the dip").isLessThan(0.95);
        assertThat(app.kpis(BOOT.plusMillis(14_999)).availability()).as("last instant of the dip").isLessThan(0.95);
        for (int i = 15; i < 60; i++) assertThat(goNoGo(app.kpis(BOOT.plusSeconds(i)))).as("recovered at %d s", i).isTrue();
    }

    @Test
    void brokenApplicationFailsTheHealthProbeFromTheStart() throws Exception {
        RoadsideApp app = new RoadsideApp(tmp, "rsu-4", "rsu-a1");
        app.start(new FaultProfile(List.of(), false, true, null), BOOT);
        assertThat(app.kpis(BOOT).availability()).isZero();
    }

    @Test
    void writesWhatTheAgentsJsonKpiSourceReads() throws Exception {
        RoadsideApp app = new RoadsideApp(tmp, "rsu-5", "rsu-a1");
        app.start(FaultProfile.NOMINAL, BOOT);
        MqttState.Kpis read = new JsonFileKpiSource(tmp.resolve(RoadsideApp.KPI_FILE), "kpis.availability", "kpis.lagMedianMs", "kpis.lagP95Ms",
                "kpis.droppedRatio", 1).read();
        assertThat(read.availability()).isCloseTo(app.last().availability(), org.assertj.core.data.Offset.offset(1e-6));
        assertThat(new ObjectMapper().readTree(Files.readAllBytes(tmp.resolve(RoadsideApp.KPI_FILE))).has("writtenAt")).isTrue();

        app.stop();
        app.tick(BOOT.plusSeconds(5));
        assertThat(new ObjectMapper().readTree(Files.readAllBytes(tmp.resolve(RoadsideApp.KPI_FILE))).path("writtenAt").asText())
                .as("a stopped application writes nothing").isEqualTo(BOOT.toString());
    }
}
