package rsuota.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fixtures.docs.DocBlock;

/** agent.conf parsed once into one typed tree; every problem reported together; every key documented. */
class AgentConfigTest {
    @TempDir
    Path dir;

    static final String GOOD = """
            device.id=rsu-9
            device.variant=rsu-a1
            device.corridor=i-5
            keyring=keyring.pem
            state.dir=state
            slot.a=a.img
            slot.b=b.img
            link.broker=tcp://127.0.0.1:1883
            link.heartbeat=15s
            activation.window.1=Mon-Fri 01:00-04:00 UTC
            health.probe.1=systemd:rsu-app.service
            led.activity.pin=17
            """;

    Path write(String text) throws Exception {
        Path f = dir.resolve("agent.conf");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void aGoodFileIsOneTypedTreeWithPathsResolvedAgainstIt() throws Exception {
        AgentConfig c = AgentConfig.load(write(GOOD));
        assertThat(c.device().id()).isEqualTo("rsu-9");
        assertThat(c.device().corridor()).isEqualTo("i-5");
        assertThat(c.stateDir()).isEqualTo(dir.resolve("state").toAbsolutePath().normalize());
        assertThat(c.link().broker()).isEqualTo("tcp://127.0.0.1:1883");
        assertThat(c.link().heartbeat()).isEqualTo(Duration.ofSeconds(15));
        assertThat(c.leds().activityPin()).isEqualTo(17);
        assertThat(c.activation().windows()).hasSize(1);
        assertThat(c.health().probes()).hasSize(1);
        assertThat(c.boot().tries()).isEqualTo(3);
        assertThat(c.rollbackBudget()).isEqualTo(Duration.ofMinutes(15));
        assertThat(c.app().unit()).isEqualTo("rsu-app.service");
    }

    @Test
    void everyProblemIsReportedTogetherWithKeyValueAndWhy() throws Exception {
        String bad = GOOD.replace("device.id=rsu-9\n", "") + """
                boot.tries=12
                link.heartbeat=often
                health.comitWindow=5m
                activation.zone=Mars/Olympus
                led.fault.pin=x
                """;
        assertThatThrownBy(() -> AgentConfig.load(write(bad))).isInstanceOf(AgentConfig.ConfigException.class).satisfies(e -> {
            String m = e.getMessage();
            assertThat(m).contains("6 problems");
            assertThat(m).contains("device.id: is required");
            assertThat(m).contains("boot.tries=12: must be an integer in 1..9");
            assertThat(m).contains("link.heartbeat=often: is not a duration");
            assertThat(m).contains("health.comitWindow").contains("unknown key");
            assertThat(m).contains("activation.zone=Mars/Olympus");
            assertThat(m).contains("led.fault.pin=x: must be a GPIO number");
        });
    }

    @Test
    void explainShowsEveryKeyWithItsValueAndSource() throws Exception {
        AgentConfig c = AgentConfig.load(write(GOOD));
        assertThat(c.settings()).anySatisfy(s -> {
            assertThat(s.key()).isEqualTo("link.heartbeat");
            assertThat(s.value()).isEqualTo("15s");
            assertThat(s.source()).isEqualTo("file");
        }).anySatisfy(s -> {
            assertThat(s.key()).isEqualTo("download.stallTimeout");
            assertThat(s.value()).isEqualTo("30s");
            assertThat(s.source()).isEqualTo("default");
        }).anySatisfy(s -> {
            assertThat(s.key()).isEqualTo("health.probe.1");
            assertThat(s.source()).isEqualTo("file");
        }).anySatisfy(s -> {
            assertThat(s.key()).isEqualTo("watchdog.device");
            assertThat(s.source()).isEqualTo("unset");
        });
        for (ConfigKeys.Key k : ConfigKeys.ALL) {
            assertThat(c.settings()).as(k.key()).anySatisfy(s -> assertThat(k.matches(s.key()) || s.key().equals(k.key())).isTrue());
        }
    }

    @Test
    void theBandwidthCapAndItsTimeOfDayRulesAreOneSchedule() throws Exception {
        AgentConfig c = AgentConfig.load(write(GOOD + """
                activation.zone=Europe/Berlin
                download.bandwidth=2Mbit/s
                download.bandwidth.window.1=22:00-05:00 unlimited
                download.bandwidth.window.2=Mon-Fri 07:00-09:00 UTC 64KiB/s
                """));
        var s = c.download().bandwidth();
        assertThat(s.otherwise().bytesPerSecond()).isEqualTo(250_000);
        assertThat(s.rules()).hasSize(2);
        assertThat(s.rules().get(0).window().zone()).isEqualTo(java.time.ZoneId.of("Europe/Berlin"));
        assertThat(s.at(java.time.Instant.parse("2026-06-01T22:30:00Z")).cap().isUnlimited()).isTrue(); // 00:30 in Berlin
        assertThat(s.at(java.time.Instant.parse("2026-06-01T08:00:00Z")).cap().bytesPerSecond()).isEqualTo(65_536);
        assertThat(AgentConfig.load(write(GOOD)).download().bandwidth().otherwise().isUnlimited()).isTrue();
    }

    @Test
    void badBandwidthValuesAreRefusedNamingTheKey() throws Exception {
        Path f = write(GOOD + """
                download.bandwidth=2 Mb/s
                download.bandwidth.window.1=22:00-05:00
                download.bandwidth.window.2=22:00-05:00 1kbit/s
                """);
        assertThatThrownBy(() -> AgentConfig.load(f)).isInstanceOf(AgentConfig.ConfigException.class)
                .hasMessageContaining("download.bandwidth=2 Mb/s: '2 Mb/s': unknown unit 'Mb'")
                .hasMessageContaining("download.bandwidth.window.1=22:00-05:00: ")
                .hasMessageContaining("download.bandwidth.window.2=22:00-05:00 1kbit/s: cap '1kbit/s' is 125 bytes/s; a cap must be between 16384");
    }

    @Test
    void theDownloadsCpuPolicyIsIdleByDefaultNormalOnRequestAndAnythingElseRefused() throws Exception {
        assertThat(AgentConfig.load(write(GOOD)).download().cpuPolicy()).isEqualTo(rsuota.agent.download.DownloadThreads.Policy.IDLE);
        assertThat(AgentConfig.load(write(GOOD + "download.cpuPolicy=normal\n")).download().cpuPolicy())
                .isEqualTo(rsuota.agent.download.DownloadThreads.Policy.NORMAL);
        Path f = write(GOOD + "download.cpuPolicy=low\n");
        assertThatThrownBy(() -> AgentConfig.load(f)).isInstanceOf(AgentConfig.ConfigException.class)
                .hasMessageContaining("download.cpuPolicy=low: give idle").hasMessageContaining("or normal");
    }

    @Test
    void theDocumentedTableIsTheKeyTable() {
        DocBlock.check(Path.of("..", "docs", "configuration.md"), "config-keys", ConfigKeys.markdownTable());
    }
}
