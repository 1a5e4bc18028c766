package rsuota.agent.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.wire.MqttState.Kpis;

class KpiSourceTest {

    private LocalServer server;

    @BeforeEach
    void start() throws IOException {
        server = new LocalServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private PrometheusKpiSource prometheus(URI uri) throws Exception {
        return new PrometheusKpiSource(uri,
                MetricSelector.parse("rsu_app_availability_ratio"),
                MetricSelector.parse("rsu_app_event_lag_seconds{quantile=\"0.5\"}"),
                MetricSelector.parse("rsu_app_event_lag_seconds{quantile=\"0.95\"}"),
                MetricSelector.parse("rsu_app_dropped_ratio"),
                1000, Duration.ofSeconds(5));
    }

    @Test
    void readsTheFourKpisFromARealEndpointScalingLagsToMilliseconds() throws Exception {
        server.body = PrometheusTextTest.EXPOSITION;
        Kpis k = prometheus(server.uri("/metrics")).read();
        assertThat(k.availability()).isEqualTo(0.9991);
        assertThat(k.lagMedianMs()).isEqualTo(120.0);
        assertThat(k.lagP95Ms()).isEqualTo(800.0);
        assertThat(k.droppedRatio()).isEqualTo(1e-4);
    }

    @Test
    void aMalformedLineFromTheEndpointIsNamed() throws Exception {
        server.body = "rsu_app_availability_ratio 0.99\nrsu_app_dropped_ratio{x=\"1\" 0\n";
        assertThatThrownBy(() -> prometheus(server.uri("/metrics")).read())
                .isInstanceOf(PrometheusFormatException.class)
                .hasMessageStartingWith(server.uri("/metrics") + ", line 2, column ");
    }

    @Test
    void aMissingMetricAnHttpErrorAndARefusedConnectionAreSaidSo() throws Exception {
        server.body = "rsu_app_availability_ratio 0.99\n";
        assertThatThrownBy(() -> prometheus(server.uri("/metrics")).read())
                .hasMessageContaining("no sample matches rsu_app_event_lag_seconds{quantile=\"0.5\"}");
        server.status = 500;
        assertThatThrownBy(() -> prometheus(server.uri("/metrics")).read()).hasMessageContaining("returned HTTP 500");
        URI closed = server.uri("/metrics");
        server.close();
        assertThatThrownBy(() -> prometheus(closed).read()).hasMessageContaining("connection refused");
    }

    @Test
    void readsAJsonFileWithConfigurableFields(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("kpis.json");
        Files.writeString(f, "{\"app\":{\"kpis\":{\"avail\":0.997,\"lag50\":0.2,\"lag95\":1.5,\"drop\":0}}}");
        JsonFileKpiSource src = new JsonFileKpiSource(f, "app.kpis.avail", "app.kpis.lag50", "app.kpis.lag95", "app.kpis.drop", 1000);
        assertThat(src.read()).isEqualTo(new Kpis(0.997, 200.0, 1500.0, 0.0));

        Files.writeString(f, "{\"availability\":\"NaN\",\"lagMedianMs\":1,\"lagP95Ms\":2,\"droppedRatio\":0}");
        JsonFileKpiSource plain = new JsonFileKpiSource(f, "availability", "lagMedianMs", "lagP95Ms", "droppedRatio", 1);
        assertThat(plain.read().availability()).isNaN();
    }

    @Test
    void jsonErrorsNameTheFileAndField(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("kpis.json");
        JsonFileKpiSource src = new JsonFileKpiSource(f, "availability", "lagMedianMs", "lagP95Ms", "droppedRatio", 1);
        assertThatThrownBy(src::read).hasMessageContaining("KPI file " + f + " does not exist");
        Files.writeString(f, "{\"availability\":0.99,\"lagMedianMs\":1,\"lagP95Ms\":2}");
        assertThatThrownBy(src::read).hasMessageContaining("has no field 'droppedRatio'");
        Files.writeString(f, "{\"availability\":\"high\",\"lagMedianMs\":1,\"lagP95Ms\":2,\"droppedRatio\":0}");
        assertThatThrownBy(src::read).hasMessageContaining("field 'availability' is string \"high\", not a number");
        Files.writeString(f, "{\"availability\":");
        assertThatThrownBy(src::read).hasMessageContaining("is not valid JSON");
    }
}
