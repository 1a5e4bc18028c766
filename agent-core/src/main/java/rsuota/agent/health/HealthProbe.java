package rsuota.agent.health;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import rsuota.hal.exec.ExternalCommand;
import rsuota.wire.MqttState.Kpis;

/**
 * A check that the box is healthy after a trial boot. {@link #check()} never throws: every
 * failure (a tool that cannot start, a refused connection, a timeout) is a failed
 * {@link ProbeResult} whose detail says what happened.
 */
public sealed interface HealthProbe permits HealthProbe.SystemdUnitActive, HealthProbe.HttpGet, HealthProbe.CommandExitsZero,
        HealthProbe.ControllerReachable, HealthProbe.KpiThresholds {

    /** Stable name used in results and verdicts, e.g. "http:http://127.0.0.1:8080/health". */
    String name();

    ProbeResult check();

    /** Limit for tools that hang: a probe must report within its timeout, whatever the tool does. */
    Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    /**
     * {@code systemctl is-active UNIT} prints "active" and exits 0. {@code systemctl} is the
     * command prefix, replaceable for tests and for boxes where it lives elsewhere.
     */
    record SystemdUnitActive(String unit, List<String> systemctl, Duration timeout) implements HealthProbe {
        public SystemdUnitActive {
            if (unit == null || unit.isBlank() || unit.startsWith("-") || unit.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("systemd unit name '" + unit + "' is not valid (e.g. rsu-app.service)");
            }
            if (systemctl.isEmpty()) throw new IllegalArgumentException("systemctl command must not be empty");
            systemctl = List.copyOf(systemctl);
        }

        public SystemdUnitActive(String unit) {
            this(unit, List.of("systemctl"), DEFAULT_TIMEOUT);
        }

        @Override
        public String name() {
            return "systemd:" + unit;
        }

        @Override
        public ProbeResult check() {
            List<String> cmd = new ArrayList<>(systemctl);
            cmd.add("is-active");
            cmd.add(unit);
            ExternalCommand.Result r;
            try {
                r = ExternalCommand.run(cmd, timeout);
            } catch (IOException e) {
                return ProbeResult.fail(name(), e.getMessage());
            }
            String state = r.stdout().strip();
            if (r.exitCode() == 0 && state.equals("active")) return ProbeResult.pass(name(), "active");
            return ProbeResult.fail(name(), (state.isEmpty() ? "not active" : state) + " (systemctl exited " + r.exitCode() + ")");
        }
    }

    /** GET returns 2xx within the timeout. Redirects are not followed: a health URL should answer itself. */
    record HttpGet(URI url, Duration timeout) implements HealthProbe {
        public HttpGet {
            String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                throw new IllegalArgumentException("health URL " + url + " must be http:// or https://");
            }
        }

        @Override
        public String name() {
            return "http:" + url;
        }

        @Override
        public ProbeResult check() {
            try {
                int status = LocalHttp.get(url, timeout, null, false).status();
                return status / 100 == 2 ? ProbeResult.pass(name(), "HTTP " + status) : ProbeResult.fail(name(), "HTTP " + status);
            } catch (IOException e) {
                return ProbeResult.fail(name(), e.getMessage());
            }
        }
    }

    /** A command (argv, no shell) exits 0 within the timeout. */
    record CommandExitsZero(List<String> argv, Duration timeout) implements HealthProbe {
        public CommandExitsZero {
            if (argv.isEmpty()) throw new IllegalArgumentException("health command must not be empty");
            argv = List.copyOf(argv);
        }

        @Override
        public String name() {
            return "cmd:" + String.join(" ", argv);
        }

        @Override
        public ProbeResult check() {
            try {
                ExternalCommand.Result r = ExternalCommand.run(argv, timeout);
                if (r.exitCode() == 0) return ProbeResult.pass(name(), "exit 0");
                return ProbeResult.fail(name(), "exited " + r.exitCode() + ": " + r.stderrForMessage());
            } catch (IOException e) {
                return ProbeResult.fail(name(), e.getMessage());
            }
        }
    }

    /** The controller can be reached; the MQTT link supplies the answer. */
    record ControllerReachable(BooleanSupplier reachable) implements HealthProbe {
        @Override
        public String name() {
            return "controller";
        }

        @Override
        public ProbeResult check() {
            return reachable.getAsBoolean()
                    ? ProbeResult.pass(name(), "controller reachable")
                    : ProbeResult.fail(name(), "controller not reachable");
        }
    }

    /**
     * The roadside application's KPIs are within limits: availability at least the minimum, lags
     * and dropped ratio at most their maxima. A NaN value fails (the application does not know).
     */
    record KpiThresholds(KpiSource source, double minAvailability, double maxLagMedianMs, double maxLagP95Ms,
                         double maxDroppedRatio) implements HealthProbe {

        /** The Go/No-Go defaults: availability >= 99.5 %, lag median <= 2 s, p95 <= 10 s, dropped <= 0.1 %. */
        public static KpiThresholds goNoGo(KpiSource source) {
            return new KpiThresholds(source, 0.995, 2000, 10000, 0.001);
        }

        @Override
        public String name() {
            return "kpi";
        }

        @Override
        public ProbeResult check() {
            Kpis k;
            try {
                k = source.read();
            } catch (IOException e) {
                return ProbeResult.fail(name(), "cannot read KPIs from " + source.describe() + ": " + e.getMessage());
            }
            List<String> bad = new ArrayList<>();
            atLeast(bad, "availability", k.availability(), minAvailability);
            atMost(bad, "lag median ms", k.lagMedianMs(), maxLagMedianMs);
            atMost(bad, "lag p95 ms", k.lagP95Ms(), maxLagP95Ms);
            atMost(bad, "dropped ratio", k.droppedRatio(), maxDroppedRatio);
            String seen = "availability " + fmt(k.availability()) + ", lag median " + fmt(k.lagMedianMs()) + " ms, p95 "
                    + fmt(k.lagP95Ms()) + " ms, dropped " + fmt(k.droppedRatio());
            return bad.isEmpty() ? ProbeResult.pass(name(), seen) : ProbeResult.fail(name(), String.join("; ", bad));
        }

        private static void atLeast(List<String> bad, String what, double v, double min) {
            if (Double.isNaN(v)) bad.add(what + " is NaN (the application reports no value)");
            else if (v < min) bad.add(what + " " + fmt(v) + " < " + fmt(min));
        }

        private static void atMost(List<String> bad, String what, double v, double max) {
            if (Double.isNaN(v)) bad.add(what + " is NaN (the application reports no value)");
            else if (v > max) bad.add(what + " " + fmt(v) + " > " + fmt(max));
        }

        private static String fmt(double v) {
            if (Double.isInfinite(v)) return v > 0 ? "+Inf" : "-Inf";
            if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
            return Double.toString(v);
        }
    }
}
