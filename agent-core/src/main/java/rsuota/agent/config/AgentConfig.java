package rsuota.agent.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's configuration file ({@code agent.conf}, Java properties). Relative paths resolve
 * against the file's directory, so a simulated device directory can be moved as a whole.
 * Every bad value is reported with the key, the value and what is expected.
 */
public record AgentConfig(Path file, String deviceId, String variant, String region, String corridor, String site,
                          List<String> tags, Path keyring, Path stateDir, String bootBackend, Path bootSimDir,
                          Path ubootConfig, Path ubootDefaults, Path grubEnv, Path cmdline, String cmdlineKey, int bootTries,
                          Path slotA, Path slotB, String systemRelease, Duration retryBase, Duration retryMax,
                          int retryMaxFailures, Duration stallTimeout, boolean clockTrusted, Properties raw) {

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
        Values rd = new Values(file, p, base);
        String backend = rd.string("boot.backend", "sim").toLowerCase(Locale.ROOT);
        if (!List.of("sim", "uboot", "grub").contains(backend)) {
            throw new ConfigException(file + ": boot.backend=" + backend + " is not one of sim, uboot, grub");
        }
        return new AgentConfig(file.toAbsolutePath(),
                rd.required("device.id"), rd.required("device.variant"),
                rd.string("device.region", ""), rd.string("device.corridor", ""), rd.string("device.site", ""),
                rd.list("device.tags"),
                rd.path("keyring", null, true), rd.path("state.dir", null, true),
                backend, rd.path("boot.sim.dir", "boot", backend.equals("sim")),
                rd.path("boot.uboot.config", "/etc/fw_env.config", false), rd.path("boot.uboot.defaults", null, false),
                rd.path("boot.grub.env", "/boot/grub/grubenv", false),
                rd.path("boot.cmdline", "/proc/cmdline", false), rd.string("boot.cmdline.key", "rsu.slot"),
                rd.integer("boot.tries", 3, 1, 9),
                rd.path("slot.a", null, true), rd.path("slot.b", null, true),
                rd.string("system.release", "unknown"),
                rd.duration("download.retry.base", "1s"), rd.duration("download.retry.max", "5m"),
                rd.integer("download.retry.maxFailures", 10, 1, 1000), rd.duration("download.stallTimeout", "30s"),
                rd.bool("clock.trusted", false), p);
    }

    private static final class Values {
        final Path file;
        final Properties p;
        final Path base;

        Values(Path file, Properties p, Path base) {
            this.file = file;
            this.p = p;
            this.base = base;
        }

        String string(String k, String def) {
            String v = p.getProperty(k);
            return v == null ? def : v.trim();
        }

        String required(String k) throws ConfigException {
            String v = string(k, null);
            if (v == null || v.isEmpty()) throw new ConfigException(file + ": " + k + " is required");
            return v;
        }

        List<String> list(String k) {
            String v = string(k, "");
            List<String> out = new ArrayList<>();
            for (String s : v.split(",")) if (!s.isBlank()) out.add(s.trim());
            return out;
        }

        Path path(String k, String def, boolean required) throws ConfigException {
            String v = string(k, def);
            if (v == null || v.isEmpty()) {
                if (required) throw new ConfigException(file + ": " + k + " is required");
                return null;
            }
            Path pth = Path.of(v);
            return pth.isAbsolute() ? pth : base.resolve(pth).normalize();
        }

        int integer(String k, int def, int min, int max) throws ConfigException {
            String v = string(k, null);
            if (v == null) return def;
            try {
                int i = Integer.parseInt(v);
                if (i < min || i > max) throw new NumberFormatException();
                return i;
            } catch (NumberFormatException e) {
                throw new ConfigException(file + ": " + k + "=" + v + " must be an integer in " + min + ".." + max);
            }
        }

        boolean bool(String k, boolean def) throws ConfigException {
            String v = string(k, null);
            if (v == null) return def;
            if (v.equalsIgnoreCase("true")) return true;
            if (v.equalsIgnoreCase("false")) return false;
            throw new ConfigException(file + ": " + k + "=" + v + " must be true or false");
        }

        Duration duration(String k, String def) throws ConfigException {
            String v = string(k, def);
            try {
                return parseDuration(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(file + ": " + k + "=" + v + " is not a duration (e.g. 500ms, 30s, 5m, 2h)");
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

    /** Value of an extension key (used by later subsystems: windows, probes, link), or null. */
    public String get(String key) {
        String v = raw.getProperty(key);
        return v == null ? null : v.trim();
    }

    public List<String> keysWithPrefix(String prefix) {
        List<String> out = new ArrayList<>();
        for (String k : raw.stringPropertyNames()) if (k.startsWith(prefix)) out.add(k);
        String[] a = out.toArray(new String[0]);
        Arrays.sort(a);
        return List.of(a);
    }

    /** Resolves a path value relative to the config file's directory. */
    public Path resolve(String value) {
        Path p = Path.of(value);
        return p.isAbsolute() ? p : file.getParent().resolve(p).normalize();
    }
}
