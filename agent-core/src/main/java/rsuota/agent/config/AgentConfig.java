package rsuota.agent.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.time.ZoneId;
import rsuota.agent.activation.ActivationConfig;
import rsuota.agent.download.BandwidthSchedule;
import rsuota.agent.health.HealthConfig;
import rsuota.wire.Bandwidth;

/**
 * The agent's configuration file ({@code agent.conf}, Java properties) as one typed tree, parsed and
 * validated once at start: every bad value and every unknown key (see {@link ConfigKeys}) is reported
 * together, one line each with the key, the value and why, and nothing starts until the file is right.
 * Relative paths resolve against the file's directory, so a simulated device directory can be moved
 * as a whole. {@link #settings()} is what {@code rsu-agent config --explain} prints.
 *
 * @param controllerLink answers the health probe {@code controller}: bound by the daemon to its MQTT
 *                       link; unbound (the CLI, no link) it answers "not reachable"
 */
public record AgentConfig(Path file, Device device, Path keyring, Path stateDir, boolean clockTrusted, boolean strictSignatures,
                          Duration rollbackBudget,
                          Boot boot, Slots slots, Download download, Link link, Leds leds, App app, Path watchdogDevice,
                          ActivationConfig activation, HealthConfig health, LateLink controllerLink, Control control, List<Setting> settings) {

    /** The unit: {@code device.*}. */
    public record Device(String id, String variant, String region, String corridor, String site, List<String> tags) {}

    /** The bootloader: {@code boot.*}. */
    public record Boot(String backend, Path simDir, Path ubootConfig, Path ubootDefaults, Path grubEnv, Path cmdline, String cmdlineKey,
                       int tries) {}

    /** The A/B slots: {@code slot.a}, {@code slot.b}, {@code system.release}. */
    public record Slots(Path a, Path b, String systemRelease) {}

    /**
     * Bundle downloads: {@code download.*}; the TLS paths are null without a private CA.
     *
     * @param bandwidth {@code download.bandwidth} and {@code download.bandwidth.window.<n>}: the cap by time of day
     */
    public record Download(Duration retryBase, Duration retryMax, int retryMaxFailures, Duration stallTimeout, Path tlsCa, Path tlsCert,
                           Path tlsKey, BandwidthSchedule bandwidth, rsuota.agent.download.DownloadThreads.Policy cpuPolicy) {}

    /** The controller link: {@code link.*}; {@code broker} null means no link. */
    public record Link(String broker, Duration heartbeat, Path tlsCa, Path tlsCert, Path tlsKey) {}

    /** Status LEDs: {@code led.*} GPIO numbers, null when absent. */
    public record Leds(Integer activityPin, Integer faultPin) {}

    /**
     * The daemon's control socket: {@code control.*}. The daemon listens on {@code socket} (mode 0660,
     * group {@code group}) and serves root and the group's members; the CLI goes through it when it answers.
     */
    public record Control(Path socket, String group) {}

    /** The roadside application: {@code app.*}. */
    public record App(String unit, String version) {}

    /** One key as in force: its value and where it came from (file, default, or unset). */
    public record Setting(String key, String value, String source, String section, String meaning) {}

    /** The controller-reachable answer, bound late (the link is built after the configuration). */
    public static final class LateLink implements BooleanSupplier {
        private volatile BooleanSupplier target;

        public void bind(BooleanSupplier t) {
            this.target = t;
        }

        public boolean bound() {
            return target != null;
        }

        @Override
        public boolean getAsBoolean() {
            BooleanSupplier t = target;
            return t != null && t.getAsBoolean();
        }
    }

    public static final class ConfigException extends Exception {
        public ConfigException(String m) {
            super(m);
        }
    }

    public static AgentConfig load(Path file) throws ConfigException, IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist (create one with 'rsu-agent sim-init DIR' or see docs)");
        }
        Path base = file.toAbsolutePath().getParent();
        Values rd = new Values(p, base);
        String backend = rd.string("boot.backend", "sim").toLowerCase(Locale.ROOT);
        if (!List.of("sim", "uboot", "grub").contains(backend)) rd.error("boot.backend", backend, "is not one of sim, uboot, grub");
        Device device = new Device(rd.required("device.id"), rd.required("device.variant"), rd.string("device.region", ""),
                rd.string("device.corridor", ""), rd.string("device.site", ""), rd.list("device.tags"));
        Path keyring = rd.path("keyring", null, true);
        Path stateDir = rd.path("state.dir", null, true);
        Boot boot = new Boot(backend, rd.path("boot.sim.dir", "boot", backend.equals("sim")),
                rd.path("boot.uboot.config", "/etc/fw_env.config", false), rd.path("boot.uboot.defaults", null, false),
                rd.path("boot.grub.env", "/boot/grub/grubenv", false), rd.path("boot.cmdline", "/proc/cmdline", false),
                rd.string("boot.cmdline.key", "rsu.slot"), rd.integer("boot.tries", 3, 1, 9));
        Slots slots = new Slots(rd.path("slot.a", null, true), rd.path("slot.b", null, true), rd.string("system.release", "unknown"));
        Download download = new Download(rd.duration("download.retry.base", "1s"), rd.duration("download.retry.max", "5m"),
                rd.integer("download.retry.maxFailures", 10, 1, 1000), rd.duration("download.stallTimeout", "30s"),
                rd.path("download.tls.ca", null, false), rd.path("download.tls.cert", null, false), rd.path("download.tls.key", null, false),
                rd.bandwidth(), rd.cpuPolicy());
        if (download.tlsCert() != null && download.tlsKey() == null) rd.error("download.tls.key", "", "is required with download.tls.cert");
        String broker = rd.string("link.broker", "");
        Link link = new Link(broker.isBlank() ? null : broker, rd.duration("link.heartbeat", "60s"), rd.path("link.tls.ca", null, false),
                rd.path("link.tls.cert", null, false), rd.path("link.tls.key", null, false));
        if (link.tlsCa() != null && (link.tlsCert() == null || link.tlsKey() == null)) {
            rd.error("link.tls.cert", "", "link.tls.ca needs link.tls.cert and link.tls.key too (the device's own identity)");
        }
        Leds leds = new Leds(rd.gpio("led.activity.pin"), rd.gpio("led.fault.pin"));
        if (leds.faultPin() != null && leds.activityPin() == null) rd.error("led.fault.pin", "", "needs led.activity.pin");
        App app = new App(rd.string("app.unit", "rsu-app.service"), emptyToNull(rd.string("app.version", "")));
        Path watchdog = rd.path("watchdog.device", null, false);
        Control control = new Control(rd.path("control.socket", "/run/rsu-agent/control.sock", false), rd.string("control.group", "rsu-tech"));
        if (control.group().isBlank()) rd.error("control.group", "", "must name a group (the technicians', e.g. rsu-tech)");
        // sun_path holds 108 bytes with its NUL; a longer path fails only when the daemon binds it.
        if (control.socket() == null) {
            rd.error("control.socket", "", "must name the socket's path (default /run/rsu-agent/control.sock)");
        } else if (control.socket().toString().getBytes(StandardCharsets.UTF_8).length > 107) {
            rd.error("control.socket", control.socket().toString(), "is longer than a Unix socket path may be (107 bytes); choose a shorter one");
        }
        Duration budget = rd.duration("rollback.budget", "15m");
        boolean clockTrusted = rd.bool("clock.trusted", false);
        boolean strict = rd.bool("bundle.strict", false);
        ActivationConfig activation = null;
        try {
            activation = ActivationConfig.parse(p, file);
        } catch (ConfigException e) {
            rd.errors.add(strip(e.getMessage(), file));
        }
        LateLink controllerLink = new LateLink();
        HealthConfig health = null;
        try {
            health = HealthConfig.parse(p, file, controllerLink);
        } catch (ConfigException e) {
            rd.errors.add(strip(e.getMessage(), file));
        }
        for (String k : new TreeSet<>(p.stringPropertyNames())) {
            // A section parser may have named it already (with its own hint); one line per key.
            if (ConfigKeys.find(k).isEmpty() && rd.errors.stream().noneMatch(line -> line.contains(k))) {
                rd.errors.add(k + "=" + p.getProperty(k).trim() + ": unknown key (did you mean " + ConfigKeys.closest(k) + "? 'rsu-agent config --explain' lists every key)");
            }
        }
        if (!rd.errors.isEmpty()) {
            throw new ConfigException(file + ": " + (rd.errors.size() == 1 ? rd.errors.get(0)
                    : rd.errors.size() + " problems:\n  " + String.join("\n  ", rd.errors)));
        }
        return new AgentConfig(file.toAbsolutePath(), device, keyring, stateDir, clockTrusted, strict, budget, boot, slots, download, link, leds, app,
                watchdog, activation, health, controllerLink, control, settings(p));
    }

    private static String emptyToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** A section parser's message without the file name in front: the whole report names it once. */
    private static String strip(String message, Path file) {
        for (String prefix : List.of(file + ": ", "agent.conf: ")) {
            if (message.startsWith(prefix)) return message.substring(prefix.length());
        }
        return message;
    }

    /** Every key of {@link ConfigKeys} with the value in force and its source; each file key under a pattern on its own line. */
    private static List<Setting> settings(Properties p) {
        List<Setting> out = new ArrayList<>();
        for (ConfigKeys.Key k : ConfigKeys.ALL) {
            if (k.pattern()) {
                List<String> hits = new ArrayList<>(new TreeSet<>(p.stringPropertyNames()).stream().filter(k::matches).toList());
                if (hits.isEmpty()) out.add(new Setting(k.key(), "", "unset", k.section(), k.meaning()));
                for (String h : hits) out.add(new Setting(h, p.getProperty(h).trim(), "file", k.section(), k.meaning()));
            } else if (p.getProperty(k.key()) != null) {
                out.add(new Setting(k.key(), p.getProperty(k.key()).trim(), "file", k.section(), k.meaning()));
            } else {
                out.add(new Setting(k.key(), k.dflt(), k.dflt().isEmpty() ? "unset" : "default", k.section(), k.meaning()));
            }
        }
        return List.copyOf(out);
    }

    /** Reads keys, collecting every problem as "key=value: why" instead of stopping at the first. */
    private static final class Values {
        final Properties p;
        final Path base;
        final List<String> errors = new ArrayList<>();

        Values(Properties p, Path base) {
            this.p = p;
            this.base = base;
        }

        void error(String k, String v, String why) {
            errors.add(k + (v == null || v.isEmpty() ? "" : "=" + v) + ": " + why);
        }

        String string(String k, String def) {
            String v = p.getProperty(k);
            return v == null ? def : v.trim();
        }

        String required(String k) {
            String v = string(k, null);
            if (v == null || v.isEmpty()) error(k, null, "is required");
            return v;
        }

        List<String> list(String k) {
            List<String> out = new ArrayList<>();
            for (String s : string(k, "").split(",")) if (!s.isBlank()) out.add(s.trim());
            return out;
        }

        Path path(String k, String def, boolean required) {
            String v = string(k, def);
            if (v == null || v.isEmpty()) {
                if (required) error(k, null, "is required");
                return null;
            }
            Path pth = Path.of(v);
            return pth.isAbsolute() ? pth : base.resolve(pth).normalize();
        }

        int integer(String k, int def, int min, int max) {
            String v = string(k, null);
            if (v == null) return def;
            try {
                int i = Integer.parseInt(v);
                if (i >= min && i <= max) return i;
            } catch (NumberFormatException e) {
                // reported below
            }
            error(k, v, "must be an integer in " + min + ".." + max);
            return def;
        }

        Integer gpio(String k) {
            String v = string(k, null);
            if (v == null || v.isEmpty()) return null;
            try {
                int i = Integer.parseInt(v);
                if (i >= 0 && i <= 63) return i;
            } catch (NumberFormatException e) {
                // reported below
            }
            error(k, v, "must be a GPIO number (0..63)");
            return null;
        }

        boolean bool(String k, boolean def) {
            String v = string(k, null);
            if (v == null) return def;
            if (v.equalsIgnoreCase("true")) return true;
            if (v.equalsIgnoreCase("false")) return false;
            error(k, v, "must be true or false");
            return def;
        }

        /** {@code download.bandwidth} (the cap outside every window) and its numbered time-of-day rules, in number order. */
        rsuota.agent.download.DownloadThreads.Policy cpuPolicy() {
            String v = string("download.cpuPolicy", "idle");
            for (var p : rsuota.agent.download.DownloadThreads.Policy.values()) if (p.wire().equals(v)) return p;
            error("download.cpuPolicy", v, "give idle (the download yields the CPU to everything else) or normal (the agent's own priority)");
            return rsuota.agent.download.DownloadThreads.Policy.IDLE;
        }

        BandwidthSchedule bandwidth() {
            Bandwidth otherwise = Bandwidth.unlimited();
            String v = string("download.bandwidth", "unlimited");
            try {
                otherwise = Bandwidth.parse(v);
            } catch (IllegalArgumentException e) {
                error("download.bandwidth", v, e.getMessage());
            }
            // Windows that name no zone use activation.zone, as maintenance windows do (a bad zone is reported there).
            ZoneId zone = ZoneId.of("UTC");
            try {
                String z = string("activation.zone", "");
                if (!z.isEmpty()) zone = ZoneId.of(z);
            } catch (java.time.DateTimeException e) {
                // reported by the activation section
            }
            java.util.TreeMap<Integer, String> rules = new java.util.TreeMap<>();
            String prefix = "download.bandwidth.window.";
            for (String k : p.stringPropertyNames()) {
                if (k.startsWith(prefix) && k.substring(prefix.length()).matches("[0-9]{1,6}")) rules.put(Integer.parseInt(k.substring(prefix.length())), k);
            }
            List<BandwidthSchedule.Rule> parsed = new ArrayList<>();
            for (String k : rules.values()) {
                String rule = string(k, "");
                try {
                    parsed.add(BandwidthSchedule.parseRule(rule, zone));
                } catch (IllegalArgumentException e) {
                    error(k, rule, e.getMessage() + " (form: [DAYS] HH:MM-HH:MM [ZONE] CAP, e.g. 'daily 22:00-05:00 unlimited')");
                }
            }
            return new BandwidthSchedule(otherwise, parsed);
        }

        Duration duration(String k, String def) {
            String v = string(k, def);
            try {
                return parseDuration(v);
            } catch (IllegalArgumentException e) {
                error(k, v, "is not a duration (e.g. 500ms, 30s, 5m, 2h)");
                return parseDuration(def);
            }
        }
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    /** "500ms", "30s", "5m", "2h", "1d". */
    public static Duration parseDuration(String v) {
        Matcher m = DURATION.matcher(v == null ? "" : v.trim());
        if (!m.matches()) throw new IllegalArgumentException("not a duration: " + v);
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }
}
