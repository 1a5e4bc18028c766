package rsuota.agent.config;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Every key of {@code agent.conf}, in one table: name (or a pattern for numbered and named keys),
 * default, section and meaning. {@link AgentConfig#load} refuses a key that is not here (a typo must
 * not silently leave a default in force), {@code rsu-agent config --explain} prints it with the
 * values in force, and docs/configuration.md is generated from it (ConfigKeysDocTest).
 */
public final class ConfigKeys {
    private ConfigKeys() {}

    /**
     * @param key     the key, or a pattern such as {@code health.probe.<n>}
     * @param dflt    the default ("" when none: required, or absent means off)
     * @param section device, boot, slots, download, link, activation, health, gpio, app, agent
     * @param meaning one line
     */
    public record Key(String key, String dflt, String section, String meaning) {
        /** Whether {@code name} is this key, or matches this pattern ({@code <n>}: digits, {@code <name>}: a word). */
        public boolean matches(String name) {
            if (!key.contains("<")) return key.equals(name);
            String re = Pattern.quote(key).replace("<n>", "\\E[0-9]+\\Q").replace("<name>", "\\E[^.]+\\Q");
            return name.matches(re);
        }

        public boolean pattern() {
            return key.contains("<");
        }
    }

    public static final List<Key> ALL = List.of(
            new Key("device.id", "", "device", "the unit's id (required): its MQTT client id and topic"),
            new Key("device.variant", "", "device", "hardware variant (required); bundles name the variants they support"),
            new Key("device.region", "", "device", "region, for cohorts and slices"),
            new Key("device.corridor", "", "device", "corridor, for cohorts, caps and control groups"),
            new Key("device.site", "", "device", "site name"),
            new Key("device.tags", "", "device", "comma-separated tags"),
            new Key("keyring", "", "agent", "PEM trust anchors bundles must be signed under (required)"),
            new Key("state.dir", "", "agent", "state directory: engine state, outbox, journal, locks (required)"),
            new Key("clock.trusted", "false", "agent", "true when the clock is NTP-synchronised: signing-time checks apply"),
            new Key("rollback.budget", "15m", "agent", "how long a rollback may take before it is alerted"),
            new Key("bundle.strict", "false", "agent", "refuse signatures not in canonical form: unsigned CMS attributes, high-S ECDSA"),
            new Key("boot.backend", "sim", "boot", "sim, uboot or grub"),
            new Key("boot.sim.dir", "boot", "boot", "simulated bootloader directory (backend sim)"),
            new Key("boot.uboot.config", "/etc/fw_env.config", "boot", "fw_env.config of the U-Boot environment"),
            new Key("boot.uboot.defaults", "", "boot", "U-Boot defaults file, for a blank environment"),
            new Key("boot.grub.env", "/boot/grub/grubenv", "boot", "GRUB environment block"),
            new Key("boot.cmdline", "/proc/cmdline", "boot", "where the running slot is read"),
            new Key("boot.cmdline.key", "rsu.slot", "boot", "kernel argument naming the running slot"),
            new Key("boot.tries", "3", "boot", "boot attempts of a trial slot before the bootloader falls back (1..9)"),
            new Key("slot.a", "", "slots", "slot A: a block device or a file (required)"),
            new Key("slot.b", "", "slots", "slot B (required)"),
            new Key("system.release", "unknown", "slots", "the release the factory image runs"),
            new Key("download.retry.base", "1s", "download", "first retry delay (doubles, with full jitter)"),
            new Key("download.retry.max", "5m", "download", "longest retry delay"),
            new Key("download.retry.maxFailures", "10", "download", "consecutive failures before a download fails (1..1000)"),
            new Key("download.stallTimeout", "30s", "download", "a fetch that moves no byte this long is cut and retried"),
            new Key("download.bandwidth", "unlimited", "download", "download cap outside the windows below, e.g. 2Mbit/s, 256KiB/s (a rollout's own cap replaces both)"),
            new Key("download.bandwidth.window.<n>", "", "download", "a time-of-day cap, [DAYS] HH:MM-HH:MM [ZONE] CAP, e.g. daily 22:00-05:00 unlimited; overlaps: the lowest cap"),
            new Key("download.cpuPolicy", "idle", "download", "idle: download threads run SCHED_IDLE (services preempt them at once); normal: the agent's own priority, for boxes whose services keep the CPU busy"),
            new Key("download.tls.ca", "", "download", "PEM CA that bundle servers are trusted under (absent: the JDK's trust store)"),
            new Key("download.tls.cert", "", "download", "client certificate for bundle servers (PEM)"),
            new Key("download.tls.key", "", "download", "its key (PKCS#8 PEM)"),
            new Key("link.broker", "", "link", "MQTT broker URL, tcp:// or ssl:// (absent: no controller link)"),
            new Key("link.heartbeat", "60s", "link", "state heartbeat interval"),
            new Key("link.tls.ca", "", "link", "PEM CA of the broker (ssl://)"),
            new Key("link.tls.cert", "", "link", "device certificate (PEM)"),
            new Key("link.tls.key", "", "link", "its key (PKCS#8 PEM)"),
            new Key("activation.zone", "", "activation", "default time zone of windows that name none (IANA id; absent: UTC)"),
            new Key("activation.window.<n>", "", "activation", "a maintenance window, e.g. Mon-Fri 01:00-04:00"),
            new Key("inhibit.door.pin", "", "gpio", "GPIO of the cabinet door switch: an open door holds activation"),
            new Key("inhibit.door.openWhen", "high", "gpio", "level at which the door is open"),
            new Key("inhibit.door.pull", "", "gpio", "pull resistor: up, down or off"),
            new Key("inhibit.switch.pin", "", "gpio", "GPIO of the technician switch: on holds activation"),
            new Key("inhibit.switch.activeWhen", "low", "gpio", "level at which the switch is on"),
            new Key("inhibit.switch.pull", "", "gpio", "pull resistor: up, down or off"),
            new Key("inhibit.power", "", "gpio", "battery power source that holds activation while on battery"),
            new Key("led.activity.pin", "", "gpio", "GPIO of the status LED"),
            new Key("led.fault.pin", "", "gpio", "GPIO of the fault LED"),
            new Key("watchdog.device", "", "agent", "hardware watchdog device, e.g. /dev/watchdog"),
            new Key("health.commitWindow", "10m", "health", "how long a trial boot is watched before it is committed"),
            new Key("health.requiredPassing", "2m", "health", "how long every probe must pass before the commit"),
            new Key("health.tolerance", "3", "health", "consecutive failures a probe may have"),
            new Key("health.interval", "10s", "health", "probe interval"),
            new Key("health.systemctl", "systemctl", "health", "systemctl command for systemd: probes"),
            new Key("health.probe.<n>", "", "health", "a probe: systemd:UNIT, http:URL, cmd:COMMAND, controller or kpi"),
            new Key("health.probe.<n>.tolerance", "", "health", "this probe's own tolerance"),
            new Key("health.probe.<n>.timeout", "", "health", "this probe's timeout"),
            new Key("health.kpi.source", "", "health", "KPI source: prometheus:URL or json:FILE"),
            new Key("health.kpi.availability", "rsu_app_availability_ratio", "health", "series of the availability KPI"),
            new Key("health.kpi.lagMedianMs", "rsu_app_event_lag_median_ms", "health", "series of the event lag median"),
            new Key("health.kpi.lagP95Ms", "rsu_app_event_lag_p95_ms", "health", "series of the event lag p95"),
            new Key("health.kpi.droppedRatio", "rsu_app_dropped_ratio", "health", "series of the dropped-event ratio"),
            new Key("health.kpi.lagUnit", "ms", "health", "unit of the lag series: ms or s"),
            new Key("health.kpi.timeout", "5s", "health", "KPI source timeout"),
            new Key("health.kpi.minAvailability", "", "health", "kpi probe: lowest availability that passes (absent: the Go/No-Go value)"),
            new Key("health.kpi.maxLagMedianMs", "", "health", "kpi probe: highest lag median that passes (absent: the Go/No-Go value)"),
            new Key("health.kpi.maxLagP95Ms", "", "health", "kpi probe: highest lag p95 that passes (absent: the Go/No-Go value)"),
            new Key("health.kpi.maxDroppedRatio", "", "health", "kpi probe: highest dropped ratio that passes (absent: the Go/No-Go value)"),
            new Key("control.socket", "/run/rsu-agent/control.sock", "agent",
                    "the daemon's control socket: rsu-agent commands go through it while the daemon runs"),
            new Key("control.group", "rsu-tech", "agent", "group whose members (besides root) may use the control socket"),
            new Key("app.unit", "rsu-app.service", "app", "the roadside application's systemd unit (diagnostics)"),
            new Key("app.version", "", "app", "the application's version reported upstream (absent: the running release)"));

    public static Optional<Key> find(String name) {
        return ALL.stream().filter(k -> k.matches(name)).findFirst();
    }

    /** The known key closest to {@code name} (edit distance), for "did you mean". */
    public static String closest(String name) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (Key k : ALL) {
            int d = distance(name, k.key());
            if (d < bestD) {
                bestD = d;
                best = k.key();
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** docs/configuration.md's table, generated: one row per key. */
    public static String markdownTable() {
        StringBuilder b = new StringBuilder("| key | default | section | meaning |\n|---|---|---|---|\n");
        for (Key k : ALL) {
            b.append("| `").append(k.key()).append("` | ").append(k.dflt().isEmpty() ? "" : "`" + k.dflt() + "`").append(" | ").append(k.section())
                    .append(" | ").append(k.meaning()).append(" |\n");
        }
        return b.toString();
    }
}
