package rsuota.agent.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.wire.MqttState.Kpis;

class HealthProbeTest {

    @TempDir
    Path dir;

    /** A stand-in for systemctl: "is-active rsu-app.service" is active, anything else inactive. */
    static Path fakeSystemctl(Path dir) throws IOException {
        Path script = dir.resolve("systemctl");
        Files.writeString(script, String.join("\n",
                "#!/bin/sh",
                "[ \"$1\" = is-active ] || { echo \"unexpected: $*\" >&2; exit 64; }",
                "case \"$2\" in",
                "  rsu-app.service) echo active; exit 0 ;;",
                "  rsu-crashed.service) echo failed; exit 3 ;;",
                "  *) echo inactive; exit 3 ;;",
                "esac",
                ""));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    @Test
    void systemdUnitActiveThroughAFakeSystemctl() throws Exception {
        List<String> systemctl = List.of(fakeSystemctl(dir).toString());
        assertThat(new HealthProbe.SystemdUnitActive("rsu-app.service", systemctl, Duration.ofSeconds(10)).check())
                .isEqualTo(ProbeResult.pass("systemd:rsu-app.service", "active"));
        assertThat(new HealthProbe.SystemdUnitActive("rsu-crashed.service", systemctl, Duration.ofSeconds(10)).check())
                .isEqualTo(ProbeResult.fail("systemd:rsu-crashed.service", "failed (systemctl exited 3)"));
        ProbeResult missingTool = new HealthProbe.SystemdUnitActive("rsu-app.service", List.of(dir.resolve("nope").toString()),
                Duration.ofSeconds(10)).check();
        assertThat(missingTool.pass()).isFalse();
        assertThat(missingTool.detail()).contains("nope");
        assertThatThrownBy(() -> new HealthProbe.SystemdUnitActive("--all")).hasMessageContaining("is not valid");
    }

    @Test
    void httpGetPassesOn2xxOnly() throws Exception {
        try (LocalServer s = new LocalServer()) {
            HealthProbe.HttpGet probe = new HealthProbe.HttpGet(s.uri("/health"), Duration.ofSeconds(5));
            assertThat(probe.check()).isEqualTo(ProbeResult.pass("http:" + s.uri("/health"), "HTTP 200"));
            s.status = 204;
            s.body = "";
            assertThat(probe.check().pass()).isTrue();
            s.status = 503;
            s.body = "starting";
            assertThat(probe.check()).isEqualTo(ProbeResult.fail("http:" + s.uri("/health"), "HTTP 503"));
            s.status = 302;
            assertThat(probe.check().pass()).as("a redirect is not health").isFalse();
        }
    }

    @Test
    void httpGetFailsOnAHungServerAndARefusedConnection() throws Exception {
        URI gone;
        try (LocalServer s = new LocalServer()) {
            s.hold = new CountDownLatch(1);
            ProbeResult r = new HealthProbe.HttpGet(s.uri("/health"), Duration.ofMillis(300)).check();
            s.hold.countDown();
            assertThat(r.pass()).isFalse();
            assertThat(r.detail()).contains("timed out after 300 ms");
            gone = s.uri("/health");
        }
        ProbeResult refused = new HealthProbe.HttpGet(gone, Duration.ofSeconds(5)).check();
        assertThat(refused.pass()).isFalse();
        assertThat(refused.detail()).contains("connection refused");
        assertThatThrownBy(() -> new HealthProbe.HttpGet(URI.create("ftp://x/"), Duration.ofSeconds(1)))
                .hasMessageContaining("must be http:// or https://");
    }

    @Test
    void commandExitsZeroWithRealCommands() {
        assertThat(new HealthProbe.CommandExitsZero(List.of("true"), Duration.ofSeconds(10)).check())
                .isEqualTo(ProbeResult.pass("cmd:true", "exit 0"));
        assertThat(new HealthProbe.CommandExitsZero(List.of("false"), Duration.ofSeconds(10)).check())
                .isEqualTo(ProbeResult.fail("cmd:false", "exited 1: (no output)"));
        assertThat(new HealthProbe.CommandExitsZero(List.of("sh", "-c", "echo config missing >&2; exit 2"), Duration.ofSeconds(10)).check())
                .isEqualTo(ProbeResult.fail("cmd:sh -c echo config missing >&2; exit 2", "exited 2: config missing"));
        ProbeResult hung = new HealthProbe.CommandExitsZero(List.of("sh", "-c", "exec tail -f /dev/null"), Duration.ofMillis(300)).check();
        assertThat(hung.pass()).isFalse();
        assertThat(hung.detail()).contains("did not finish within 300 ms");
        ProbeResult missing = new HealthProbe.CommandExitsZero(List.of("/nonexistent/selftest"), Duration.ofSeconds(10)).check();
        assertThat(missing.pass()).isFalse();
        assertThat(missing.detail()).contains("/nonexistent/selftest");
    }

    @Test
    void controllerReachableAsksTheSupplier() {
        AtomicBoolean up = new AtomicBoolean(true);
        HealthProbe.ControllerReachable p = new HealthProbe.ControllerReachable(up::get);
        assertThat(p.check()).isEqualTo(ProbeResult.pass("controller", "controller reachable"));
        up.set(false);
        assertThat(p.check()).isEqualTo(ProbeResult.fail("controller", "controller not reachable"));
    }

    private static KpiSource fixed(Kpis k) {
        return new KpiSource() {
            @Override
            public Kpis read() {
                return k;
            }

            @Override
            public String describe() {
                return "fixed";
            }
        };
    }

    @Test
    void kpiThresholdsPassWithinLimitsAndNameEveryViolation() {
        assertThat(HealthProbe.KpiThresholds.goNoGo(fixed(new Kpis(0.999, 120, 800, 0.0001))).check())
                .isEqualTo(ProbeResult.pass("kpi", "availability 0.999, lag median 120 ms, p95 800 ms, dropped 1.0E-4"));
        assertThat(HealthProbe.KpiThresholds.goNoGo(fixed(new Kpis(0.99, 2500, 12000, 0.01))).check())
                .isEqualTo(ProbeResult.fail("kpi",
                        "availability 0.99 < 0.995; lag median ms 2500 > 2000; lag p95 ms 12000 > 10000; dropped ratio 0.01 > 0.001"));
        assertThat(HealthProbe.KpiThresholds.goNoGo(fixed(new Kpis(Double.NaN, 1, Double.POSITIVE_INFINITY, 0))).check().detail())
                .isEqualTo("availability is NaN (the application reports no value); lag p95 ms +Inf > 10000");
    }

    @Test
    void kpiThresholdsFailWhenTheSourceCannotBeRead() {
        KpiSource broken = new KpiSource() {
            @Override
            public Kpis read() throws IOException {
                throw new IOException("GET http://127.0.0.1:9/metrics: connection refused or unreachable");
            }

            @Override
            public String describe() {
                return "prometheus http://127.0.0.1:9/metrics";
            }
        };
        assertThat(HealthProbe.KpiThresholds.goNoGo(broken).check()).isEqualTo(ProbeResult.fail("kpi",
                "cannot read KPIs from prometheus http://127.0.0.1:9/metrics: GET http://127.0.0.1:9/metrics: connection refused or unreachable"));
    }
}
