package rsuota.agent.health;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.config.AgentConfig.ConfigException;

/**
 * Health probes and the commit window, from {@code agent.conf}:
 * <pre>
 * health.probe.1=systemd:rsu-app.service        # systemctl is-active
 * health.probe.2=http:http://127.0.0.1:8080/health
 * health.probe.2.timeout=3s                     # per probe (defaults: systemd 10s, http 5s, cmd 30s)
 * health.probe.3=cmd:/usr/bin/rsu-app-selftest --quick
 * health.probe.3.tolerance=0                    # per probe (default health.tolerance)
 * health.probe.4=controller                     # the MQTT link reaches the controller
 * health.probe.5=kpi                            # KPI thresholds, below
 * health.commitWindow=10m                       # default 10m
 * health.requiredPassing=2m                     # default 2m, at most the commit window
 * health.tolerance=3                            # consecutive failures allowed per probe, default 3
 * health.interval=10s                           # how often the engine checks, default 10s
 * health.systemctl=systemctl                    # command prefix for systemd probes (a fake one in the lab)
 * health.kpi.source=prometheus:http://127.0.0.1:9100/metrics    # or json:/run/rsu-app/kpis.json
 * health.kpi.availability=rsu_app_availability_ratio            # selector (prometheus) or dotted field (json)
 * health.kpi.lagMedianMs=rsu_app_event_lag_seconds{quantile="0.5"}
 * health.kpi.lagP95Ms=rsu_app_event_lag_seconds{quantile="0.95"}
 * health.kpi.droppedRatio=rsu_app_dropped_events_ratio
 * health.kpi.lagUnit=s                          # ms (default) or s: the unit the source reports lags in
 * health.kpi.timeout=5s
 * health.kpi.minAvailability=0.995              # defaults: the Go/No-Go KPIs
 * health.kpi.maxLagMedianMs=2000
 * health.kpi.maxLagP95Ms=10000
 * health.kpi.maxDroppedRatio=0.001
 * </pre>
 * Commands are split on spaces; single or double quotes keep spaces, a backslash escapes the next
 * character; there is no shell (write {@code cmd:/bin/sh -c '...'} for one). Every bad line is an
 * error naming the key, the value and what is expected; unknown {@code health.*} keys too (a
 * mistyped key must not silently weaken the commit check).
 *
 * @param kpiSource the KPI source, or null when {@code health.kpi.source} is not set
 */
public record HealthConfig(List<ProbeSpec> probes, Duration commitWindow, Duration requiredPassing, Duration checkInterval,
                           KpiSource kpiSource) {

    /** A probe and the number of consecutive failures it may have before the trial is rolled back. */
    public record ProbeSpec(HealthProbe probe, int tolerance) {
        public ProbeSpec {
            if (tolerance < 0) throw new IllegalArgumentException("tolerance must not be negative: " + tolerance);
        }
    }

    public static final Duration DEFAULT_COMMIT_WINDOW = Duration.ofMinutes(10);
    public static final Duration DEFAULT_REQUIRED_PASSING = Duration.ofMinutes(2);
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
    public static final int DEFAULT_TOLERANCE = 3;

    public HealthConfig {
        probes = List.copyOf(probes);
    }

    private static final Set<String> KEYS = Set.of("health.commitWindow", "health.requiredPassing", "health.tolerance",
            "health.interval", "health.systemctl", "health.kpi.source", "health.kpi.availability", "health.kpi.lagMedianMs",
            "health.kpi.lagP95Ms", "health.kpi.droppedRatio", "health.kpi.lagUnit", "health.kpi.timeout",
            "health.kpi.minAvailability", "health.kpi.maxLagMedianMs", "health.kpi.maxLagP95Ms", "health.kpi.maxDroppedRatio");
    private static final Pattern PROBE_KEY = Pattern.compile("health\\.probe\\.([^.]+)(?:\\.(tolerance|timeout))?");

    /**
     * @param configFile          for messages and to resolve a relative JSON KPI path
     * @param controllerReachable answers the {@code controller} probe; null when this agent has no link
     */
    public static HealthConfig parse(Properties p, Path configFile, BooleanSupplier controllerReachable) throws ConfigException {
        Reader r = new Reader(p, configFile);
        TreeMap<Integer, String> probeLines = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            if (!k.startsWith("health.")) continue;
            Matcher m = PROBE_KEY.matcher(k);
            if (m.matches()) {
                int n = r.index(k, m.group(1));
                if (m.group(2) == null) probeLines.put(n, k);
                else if (r.get("health.probe." + m.group(1)) == null) throw r.error(k, "is set but health.probe." + m.group(1) + " is not");
            } else if (!KEYS.contains(k)) {
                throw new ConfigException(r.where + ": unknown key " + k + " (probes are health.probe.N=TYPE:ARG; see docs for the health.* keys)");
            }
        }
        Duration window = r.duration("health.commitWindow", DEFAULT_COMMIT_WINDOW);
        Duration required = r.duration("health.requiredPassing", DEFAULT_REQUIRED_PASSING);
        if (required.compareTo(window) > 0) {
            throw new ConfigException(r.where + ": health.requiredPassing=" + format(required) + " is longer than health.commitWindow="
                    + format(window) + "; the trial could never pass");
        }
        Duration interval = r.duration("health.interval", DEFAULT_INTERVAL);
        int tolerance = r.integer("health.tolerance", DEFAULT_TOLERANCE);
        List<String> systemctl = r.argv("health.systemctl", "systemctl");
        KpiSource kpi = kpiSource(r);

        List<ProbeSpec> probes = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        for (String key : probeLines.values()) {
            HealthProbe probe = probe(r, key, systemctl, kpi, controllerReachable);
            String earlier = names.put(probe.name(), key);
            if (earlier != null) throw r.error(key, "repeats the probe of " + earlier);
            probes.add(new ProbeSpec(probe, r.integer(key + ".tolerance", tolerance)));
        }
        return new HealthConfig(probes, window, required, interval, kpi);
    }

    private static HealthProbe probe(Reader r, String key, List<String> systemctl, KpiSource kpi, BooleanSupplier controller)
            throws ConfigException {
        String v = r.get(key);
        int colon = v.indexOf(':');
        String type = (colon < 0 ? v : v.substring(0, colon)).toLowerCase(Locale.ROOT);
        String arg = colon < 0 ? "" : v.substring(colon + 1).strip();
        String timeoutKey = key + ".timeout";
        switch (type) {
            case "systemd" -> {
                if (arg.isEmpty() || arg.startsWith("-") || arg.chars().anyMatch(Character::isWhitespace)) {
                    throw r.error(key, "needs one unit name, e.g. systemd:rsu-app.service");
                }
                return new HealthProbe.SystemdUnitActive(arg, systemctl, r.duration(timeoutKey, HealthProbe.DEFAULT_TIMEOUT));
            }
            case "http" -> {
                URI uri;
                try {
                    uri = new URI(arg);
                } catch (URISyntaxException e) {
                    throw r.error(key, "is not a URL (" + e.getReason() + "), e.g. http:http://127.0.0.1:8080/health");
                }
                String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
                if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                    throw r.error(key, "needs an http:// or https:// URL with a host, e.g. http:http://127.0.0.1:8080/health");
                }
                return new HealthProbe.HttpGet(uri, r.duration(timeoutKey, Duration.ofSeconds(5)));
            }
            case "cmd" -> {
                List<String> argv;
                try {
                    argv = argv(arg);
                } catch (IllegalArgumentException e) {
                    throw r.error(key, e.getMessage());
                }
                if (argv.isEmpty()) throw r.error(key, "needs a command, e.g. cmd:/usr/bin/rsu-app-selftest");
                return new HealthProbe.CommandExitsZero(argv, r.duration(timeoutKey, Duration.ofSeconds(30)));
            }
            case "controller" -> {
                r.noArgNoTimeout(key, arg, timeoutKey);
                if (controller == null) throw r.error(key, "needs a controller link, and this agent has none configured");
                return new HealthProbe.ControllerReachable(controller);
            }
            case "kpi" -> {
                r.noArgNoTimeout(key, arg, timeoutKey);
                if (kpi == null) throw r.error(key, "needs health.kpi.source=prometheus:URL or json:PATH");
                HealthProbe.KpiThresholds d = HealthProbe.KpiThresholds.goNoGo(kpi);
                return new HealthProbe.KpiThresholds(kpi,
                        r.decimal("health.kpi.minAvailability", d.minAvailability(), 0, 1),
                        r.decimal("health.kpi.maxLagMedianMs", d.maxLagMedianMs(), 0, Double.MAX_VALUE),
                        r.decimal("health.kpi.maxLagP95Ms", d.maxLagP95Ms(), 0, Double.MAX_VALUE),
                        r.decimal("health.kpi.maxDroppedRatio", d.maxDroppedRatio(), 0, 1));
            }
            default -> throw r.error(key, "has unknown probe type '" + type + "' (use systemd:UNIT, http:URL, cmd:COMMAND, controller or kpi)");
        }
    }

    private static KpiSource kpiSource(Reader r) throws ConfigException {
        String src = r.get("health.kpi.source");
        if (src == null) return null;
        String unit = r.get("health.kpi.lagUnit");
        double lagToMs;
        if (unit == null || unit.equals("ms")) lagToMs = 1;
        else if (unit.equals("s")) lagToMs = 1000;
        else throw r.error("health.kpi.lagUnit", "must be ms or s");
        Duration timeout = r.duration("health.kpi.timeout", Duration.ofSeconds(5));
        if (src.startsWith("prometheus:")) {
            URI uri;
            try {
                uri = new URI(src.substring("prometheus:".length()).strip());
            } catch (URISyntaxException e) {
                throw r.error("health.kpi.source", "is not a URL (" + e.getReason() + ")");
            }
            if (uri.getScheme() == null || !uri.getScheme().startsWith("http") || uri.getHost() == null) {
                throw r.error("health.kpi.source", "needs an http:// URL, e.g. prometheus:http://127.0.0.1:9100/metrics");
            }
            return new PrometheusKpiSource(uri,
                    r.selector("health.kpi.availability", "rsu_app_availability_ratio"),
                    r.selector("health.kpi.lagMedianMs", "rsu_app_event_lag_median_ms"),
                    r.selector("health.kpi.lagP95Ms", "rsu_app_event_lag_p95_ms"),
                    r.selector("health.kpi.droppedRatio", "rsu_app_dropped_ratio"),
                    lagToMs, timeout);
        }
        if (src.startsWith("json:") && src.length() > "json:".length()) {
            Path file = Path.of(src.substring("json:".length()).strip());
            if (!file.isAbsolute() && r.base != null) file = r.base.resolve(file).normalize();
            return new JsonFileKpiSource(file,
                    r.field("health.kpi.availability", "availability"),
                    r.field("health.kpi.lagMedianMs", "lagMedianMs"),
                    r.field("health.kpi.lagP95Ms", "lagP95Ms"),
                    r.field("health.kpi.droppedRatio", "droppedRatio"),
                    lagToMs);
        }
        throw r.error("health.kpi.source", "must be prometheus:URL or json:PATH");
    }

    /** Splits a command line: spaces separate, quotes group, backslash escapes; no shell. */
    static List<String> argv(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) quote = 0;
                else if (c == '\\' && quote == '"' && i + 1 < s.length()) cur.append(s.charAt(++i));
                else cur.append(c);
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (c == '\\') {
                if (i + 1 >= s.length()) throw new IllegalArgumentException("ends with a lone backslash");
                cur.append(s.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) out.add(cur.toString());
                cur.setLength(0);
                inWord = false;
            } else {
                cur.append(c);
                inWord = true;
            }
        }
        if (quote != 0) throw new IllegalArgumentException("has an unclosed " + quote + " quote");
        if (inWord) out.add(cur.toString());
        return out;
    }

    /** "10m", "1m30s", "45s", "250ms": how durations are written in the config. */
    static String format(Duration d) {
        if (d.isZero()) return "0s";
        StringBuilder sb = new StringBuilder();
        long h = d.toHours();
        int m = d.toMinutesPart();
        int s = d.toSecondsPart();
        int ms = d.toMillisPart();
        if (h > 0) sb.append(h).append('h');
        if (m > 0) sb.append(m).append('m');
        if (s > 0) sb.append(s).append('s');
        if (ms > 0) sb.append(ms).append("ms");
        return sb.toString();
    }

    private static final class Reader {
        final Properties p;
        final String where;
        final Path base;

        Reader(Properties p, Path configFile) {
            this.p = p;
            this.where = configFile == null ? "agent.conf" : configFile.toString();
            this.base = configFile == null ? null : configFile.toAbsolutePath().getParent();
        }

        String get(String k) {
            String v = p.getProperty(k);
            return v == null ? null : v.strip();
        }

        ConfigException error(String key, String what) {
            String v = get(key);
            return new ConfigException(where + ": " + key + (v == null ? "" : "=" + v) + " " + what);
        }

        int index(String key, String n) throws ConfigException {
            try {
                int i = Integer.parseInt(n);
                if (i >= 1) return i;
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new ConfigException(where + ": " + key + ": '" + n + "' is not a positive number (write health.probe.1, health.probe.2, ...)");
        }

        Duration duration(String key, Duration def) throws ConfigException {
            String v = get(key);
            if (v == null) return def;
            try {
                Duration d = AgentConfig.parseDuration(v);
                if (d.isZero() && !key.equals("health.requiredPassing")) throw new IllegalArgumentException("zero");
                return d;
            } catch (IllegalArgumentException e) {
                throw error(key, "is not a positive duration (e.g. 500ms, 30s, 10m)");
            }
        }

        int integer(String key, int def) throws ConfigException {
            String v = get(key);
            if (v == null) return def;
            try {
                int i = Integer.parseInt(v);
                if (i < 0 || i > 1000) throw new NumberFormatException();
                return i;
            } catch (NumberFormatException e) {
                throw error(key, "must be a whole number of consecutive failures in 0..1000");
            }
        }

        double decimal(String key, double def, double min, double max) throws ConfigException {
            String v = get(key);
            if (v == null) return def;
            try {
                double d = Double.parseDouble(v);
                if (Double.isNaN(d) || d < min || d > max) throw new NumberFormatException();
                return d;
            } catch (NumberFormatException e) {
                throw error(key, "must be a number in " + min + ".." + (max == Double.MAX_VALUE ? "" : Double.toString(max)));
            }
        }

        List<String> argv(String key, String def) throws ConfigException {
            String v = get(key);
            try {
                List<String> a = HealthConfig.argv(v == null ? def : v);
                if (a.isEmpty()) throw new IllegalArgumentException("is empty");
                return a;
            } catch (IllegalArgumentException e) {
                throw error(key, e.getMessage());
            }
        }

        MetricSelector selector(String key, String def) throws ConfigException {
            String v = get(key);
            try {
                return MetricSelector.parse(v == null ? def : v);
            } catch (PrometheusFormatException e) {
                throw error(key, "is not a metric selector like name{label=\"value\"}: " + e.getMessage());
            }
        }

        String field(String key, String def) throws ConfigException {
            String v = get(key);
            if (v == null) return def;
            if (v.isEmpty() || v.startsWith(".") || v.endsWith(".") || v.contains("..")) {
                throw error(key, "is not a JSON field path like kpis.availability");
            }
            return v;
        }

        void noArgNoTimeout(String key, String arg, String timeoutKey) throws ConfigException {
            if (!arg.isEmpty()) throw error(key, "takes no argument");
            if (get(timeoutKey) != null) throw error(timeoutKey, "is not supported for this probe type");
        }
    }
}
