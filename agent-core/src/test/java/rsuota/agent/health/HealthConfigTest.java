package rsuota.agent.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import rsuota.agent.config.AgentConfig.ConfigException;

class HealthConfigTest {

    @TempDir
    Path dir;

    private Path conf() {
        return dir.resolve("agent.conf");
    }

    private static Properties props(String text) throws Exception {
        Properties p = new Properties();
        p.load(new StringReader(text));
        return p;
    }

    @Test
    void parsesEveryProbeTypeWithDefaultsAndOverrides() throws Exception {
        HealthConfig c = HealthConfig.parse(props("""
                health.probe.1=systemd:rsu-app.service
                health.probe.2=http:http://127.0.0.1:8080/health
                health.probe.2.timeout=3s
                health.probe.3=cmd:/bin/sh -c 'test -e /run/rsu-app.ready' "two words" a\\\\ b
                health.probe.3.tolerance=0
                health.probe.10=controller
                health.probe.4=kpi
                health.commitWindow=15m
                health.requiredPassing=5m
                health.tolerance=2
                health.kpi.source=prometheus:http://127.0.0.1:9100/metrics
                health.kpi.lagMedianMs=rsu_app_event_lag_seconds{quantile="0.5"}
                health.kpi.lagUnit=s
                health.kpi.minAvailability=0.99
                """), conf(), () -> true);
        assertThat(c.commitWindow()).isEqualTo(Duration.ofMinutes(15));
        assertThat(c.requiredPassing()).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.checkInterval()).isEqualTo(HealthConfig.DEFAULT_INTERVAL);
        assertThat(c.probes()).extracting(p -> p.probe().name()).containsExactly(
                "systemd:rsu-app.service", "http:http://127.0.0.1:8080/health",
                "cmd:/bin/sh -c test -e /run/rsu-app.ready two words a b", "kpi", "controller");
        assertThat(c.probes()).extracting(HealthConfig.ProbeSpec::tolerance).containsExactly(2, 2, 0, 2, 2);
        assertThat(c.probes().get(0).probe()).isEqualTo(
                new HealthProbe.SystemdUnitActive("rsu-app.service", List.of("systemctl"), Duration.ofSeconds(10)));
        assertThat(c.probes().get(1).probe()).isEqualTo(new HealthProbe.HttpGet(URI.create("http://127.0.0.1:8080/health"), Duration.ofSeconds(3)));
        assertThat(((HealthProbe.CommandExitsZero) c.probes().get(2).probe()).argv())
                .containsExactly("/bin/sh", "-c", "test -e /run/rsu-app.ready", "two words", "a b");
        HealthProbe.KpiThresholds kpi = (HealthProbe.KpiThresholds) c.probes().get(3).probe();
        assertThat(kpi.minAvailability()).isEqualTo(0.99);
        assertThat(kpi.maxLagP95Ms()).isEqualTo(10000);
        PrometheusKpiSource src = (PrometheusKpiSource) kpi.source();
        assertThat(src.lagMedian()).isEqualTo(new MetricSelector("rsu_app_event_lag_seconds", Map.of("quantile", "0.5")));
        assertThat(src.availability()).isEqualTo(new MetricSelector("rsu_app_availability_ratio", Map.of()));
        assertThat(src.lagToMs()).isEqualTo(1000);
        assertThat(c.kpiSource()).isSameAs(src);
    }

    @Test
    void defaultsWithNoHealthKeys() throws Exception {
        HealthConfig c = HealthConfig.parse(props(""), conf(), null);
        assertThat(c.probes()).isEmpty();
        assertThat(c.commitWindow()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.requiredPassing()).isEqualTo(Duration.ofMinutes(2));
        assertThat(c.kpiSource()).isNull();
    }

    @Test
    void aJsonKpiSourceResolvesAgainstTheConfigDirectory() throws Exception {
        HealthConfig c = HealthConfig.parse(props("""
                health.kpi.source=json:run/kpis.json
                health.kpi.availability=kpis.availability
                """), conf(), null);
        JsonFileKpiSource src = (JsonFileKpiSource) c.kpiSource();
        assertThat(src.file()).isEqualTo(dir.resolve("run/kpis.json"));
        assertThat(src.availability()).isEqualTo("kpis.availability");
        assertThat(src.droppedRatio()).isEqualTo("droppedRatio");
    }

    @Test
    void aSystemctlOverrideRunsTheFakeOneEndToEnd() throws Exception {
        Path fake = HealthProbeTest.fakeSystemctl(dir);
        HealthConfig c = HealthConfig.parse(props("health.systemctl=" + fake + "\nhealth.probe.1=systemd:rsu-app.service\n"
                + "health.probe.2=cmd:false\nhealth.requiredPassing=0s\n"), conf(), null);
        HealthMonitor m = new HealthMonitor(c, Instant.EPOCH);
        assertThat(m.checkOnce()).containsExactly(ProbeResult.pass("systemd:rsu-app.service", "active"),
                ProbeResult.fail("cmd:false", "exited 1: (no output)"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "health.probe.1=htp:http://x/                 | health.probe.1=htp:http://x/ has unknown probe type 'htp' (use systemd:UNIT, http:URL",
            "health.probe.1=systemd:                      | health.probe.1=systemd: needs one unit name",
            "health.probe.1=systemd:a b                   | health.probe.1=systemd:a b needs one unit name",
            "health.probe.1=http:/health                   | health.probe.1=http:/health needs an http:// or https:// URL with a host",
            "health.probe.1=http:127.0.0.1:8080/health    | is not a URL (Illegal character in scheme name)",
            "health.probe.1=http:http://[bad/             | health.probe.1=http:http://[bad/ is not a URL",
            "health.probe.1=cmd:                          | health.probe.1=cmd: needs a command",
            "health.probe.1=cmd:sh -c 'oops               | has an unclosed ' quote",
            "health.probe.1=controller                    | health.probe.1=controller needs a controller link",
            "health.probe.1=controller:x                  | health.probe.1=controller:x takes no argument",
            "health.probe.1=kpi                           | health.probe.1=kpi needs health.kpi.source=prometheus:URL or json:PATH",
            "health.probe.one=cmd:true                    | health.probe.one: 'one' is not a positive number",
            "health.probe.0=cmd:true                      | health.probe.0: '0' is not a positive number",
            "health.probe.2.timeout=5s                    | health.probe.2.timeout=5s is set but health.probe.2 is not",
            "health.probe.1=cmd:true\\nhealth.probe.1.timeout=soon | health.probe.1.timeout=soon is not a positive duration",
            "health.probe.1=cmd:true\\nhealth.probe.1.tolerance=-1 | health.probe.1.tolerance=-1 must be a whole number",
            "health.probe.1=cmd:true\\nhealth.probe.2=cmd:true | health.probe.2=cmd:true repeats the probe of health.probe.1",
            "health.probe.1=cmd:true\\nhealth.probe.1.retries=2 | unknown key health.probe.1.retries",
            "health.comitWindow=10m                       | unknown key health.comitWindow",
            "health.commitWindow=1m\\nhealth.requiredPassing=2m | health.requiredPassing=2m is longer than health.commitWindow=1m",
            "health.commitWindow=0s                       | health.commitWindow=0s is not a positive duration",
            "health.kpi.source=ftp://x                    | health.kpi.source=ftp://x must be prometheus:URL or json:PATH",
            "health.kpi.source=prometheus:/metrics        | needs an http:// URL",
            "health.kpi.source=json:/k.json\\nhealth.kpi.lagUnit=min | health.kpi.lagUnit=min must be ms or s",
            "health.kpi.source=prometheus:http://h/m\\nhealth.kpi.lagP95Ms=lag{q=0.95} | health.kpi.lagP95Ms=lag{q=0.95} is not a metric selector",
            "health.kpi.source=json:/k.json\\nhealth.kpi.availability=a..b | health.kpi.availability=a..b is not a JSON field path",
            "health.kpi.source=json:/k\\nhealth.probe.1=kpi\\nhealth.kpi.minAvailability=99.5 | health.kpi.minAvailability=99.5 must be a number in 0.0..1.0"})
    void badLinesAreNamed(String text, String message) {
        assertThatThrownBy(() -> HealthConfig.parse(props(text.replace("\\n", "\n")), conf(), null))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(conf() + ": ")
                .hasMessageContaining(message);
    }

    @Test
    void commandLinesSplitLikeAShellWithoutOne() {
        assertThat(HealthConfig.argv("  a  'b c'  \"d \\\" e\" f\\ g ''  ")).containsExactly("a", "b c", "d \" e", "f g", "");
        assertThatThrownBy(() -> HealthConfig.argv("a\\")).hasMessageContaining("lone backslash");
    }

    @Test
    void durationsAreWrittenTheWayTheConfigTakesThem() {
        assertThat(HealthConfig.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(HealthConfig.format(Duration.ofMinutes(10))).isEqualTo("10m");
        assertThat(HealthConfig.format(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(HealthConfig.format(Duration.ZERO)).isEqualTo("0s");
        assertThat(HealthConfig.format(Duration.ofHours(2))).isEqualTo("2h");
    }

    @Test
    void aRealJsonKpiFileThroughTheConfig() throws Exception {
        Files.writeString(dir.resolve("kpis.json"), "{\"availability\":0.999,\"lagMedianMs\":100,\"lagP95Ms\":900,\"droppedRatio\":0}");
        HealthConfig c = HealthConfig.parse(props("health.kpi.source=json:kpis.json\nhealth.probe.1=kpi\n"), conf(), null);
        assertThat(c.probes().get(0).probe().check().pass()).isTrue();
    }
}
