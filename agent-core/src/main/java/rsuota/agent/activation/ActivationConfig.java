package rsuota.agent.activation;

import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import rsuota.agent.config.AgentConfig.ConfigException;
import rsuota.hal.gpio.Gpio;
import rsuota.hal.gpio.GpioException;

/**
 * Maintenance windows and inhibitors from {@code agent.conf}:
 * <pre>
 * activation.zone=Europe/Berlin                 # default zone for windows that name none
 * activation.window.1=Mon-Fri 01:00-04:00       # several allowed; none = any time
 * activation.window.2=Sat-Sun 03:00-06:00 UTC
 * inhibit.door.pin=17                           # cabinet door contact (pin number of the GPIO backend)
 * inhibit.door.openWhen=high                    # level meaning "door open" (default high)
 * inhibit.door.pull=up                          # up | down | none (default up)
 * inhibit.switch.pin=27                         # technician switch
 * inhibit.switch.activeWhen=low                 # level meaning "hold" (default low: switch to ground)
 * inhibit.switch.pull=up
 * inhibit.power=sysfs                           # none (default) | sysfs | sysfs:PATH | fixed:mains | fixed:battery
 * </pre>
 * Unknown keys under {@code activation.window.} and {@code inhibit.} are errors (a typo must not
 * silently disable a safety hold). The technician lock needs no configuration: it lives in the
 * state directory.
 *
 * @param windows the device's windows; empty = activation allowed any time
 * @param door    the door contact, or null
 * @param techSwitch the technician switch, or null
 * @param power   the power source to watch, or null
 */
public record ActivationConfig(List<MaintenanceWindow> windows, InputSpec door, InputSpec techSwitch, PowerSource power) {

    /** A GPIO input and the level at which it holds activation. */
    public record InputSpec(Gpio.InputPin pin, boolean activeHigh) {}

    public ActivationConfig {
        windows = List.copyOf(windows);
    }

    public static ActivationConfig parse(Properties p, Path configFile) throws ConfigException {
        String where = configFile == null ? "agent.conf" : configFile.toString();
        for (String k : p.stringPropertyNames()) {
            if (k.startsWith("inhibit.") && !KNOWN_INHIBIT_KEYS.contains(k)) {
                throw new ConfigException(where + ": unknown key " + k + " (known: " + String.join(", ", new TreeSet<>(KNOWN_INHIBIT_KEYS)) + ")");
            }
        }
        ZoneId zone = null;
        String z = get(p, "activation.zone");
        if (z != null) {
            try {
                zone = ZoneId.of(z);
            } catch (DateTimeException e) {
                throw new ConfigException(where + ": activation.zone=" + z + " is not a time zone (use an IANA id like Europe/Berlin, or UTC)");
            }
        }
        TreeMap<Integer, MaintenanceWindow> windows = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            if (!k.startsWith("activation.window.")) continue;
            int n = index(where, k, "activation.window.");
            String v = get(p, k);
            try {
                windows.put(n, MaintenanceWindow.parse(v == null ? "" : v, zone));
            } catch (InvalidWindowException e) {
                throw new ConfigException(where + ": " + k + ": " + e.getMessage()
                        + (zone == null ? " (or set activation.zone for all windows)" : ""));
            }
        }
        InputSpec door = input(p, where, "inhibit.door", "openWhen", "high");
        InputSpec sw = input(p, where, "inhibit.switch", "activeWhen", "low");
        PowerSource power = power(p, where);
        return new ActivationConfig(new ArrayList<>(windows.values()), door, sw, power);
    }

    /** The device's schedule: its windows, or any time when none are configured. */
    public WindowSchedule schedule() {
        return windows.isEmpty() ? WindowSchedule.anyTime() : WindowSchedule.of(windows);
    }

    public boolean needsGpio() {
        return door != null || techSwitch != null;
    }

    /**
     * Opens the configured GPIO inputs and builds the inhibitors: door, switch, technician lock
     * (always), power. {@code gpio} may be null only when no GPIO input is configured.
     */
    public Inhibitors inhibitors(Gpio gpio, Path stateDir) throws GpioException {
        List<Inhibitor> out = new ArrayList<>();
        if (needsGpio() && gpio == null) {
            throw new GpioException("inhibit.door.pin / inhibit.switch.pin are configured but this device has no GPIO backend");
        }
        if (door != null) out.add(new GpioInhibitor("cabinet door", gpio.input(door.pin()), door.activeHigh(), "cabinet door open"));
        if (techSwitch != null) {
            out.add(new GpioInhibitor("technician switch", gpio.input(techSwitch.pin()), techSwitch.activeHigh(), "technician switch on"));
        }
        out.add(new TechnicianLock(stateDir));
        if (power != null) out.add(new BatteryInhibitor(power));
        return new Inhibitors(out);
    }

    private static final Set<String> KNOWN_INHIBIT_KEYS = Set.of(
            "inhibit.door.pin", "inhibit.door.openWhen", "inhibit.door.pull",
            "inhibit.switch.pin", "inhibit.switch.activeWhen", "inhibit.switch.pull",
            "inhibit.power");

    private static String get(Properties p, String k) {
        String v = p.getProperty(k);
        return v == null ? null : v.strip();
    }

    private static int index(String where, String key, String prefix) throws ConfigException {
        String n = key.substring(prefix.length());
        try {
            int i = Integer.parseInt(n);
            if (i < 1) throw new NumberFormatException();
            return i;
        } catch (NumberFormatException e) {
            throw new ConfigException(where + ": " + key + ": '" + n + "' is not a positive number (write " + prefix + "1, "
                    + prefix + "2, ...)");
        }
    }

    private static InputSpec input(Properties p, String where, String prefix, String levelKey, String defaultLevel)
            throws ConfigException {
        String pin = get(p, prefix + ".pin");
        String level = get(p, prefix + "." + levelKey);
        String pull = get(p, prefix + ".pull");
        if (pin == null) {
            if (level != null || pull != null) {
                throw new ConfigException(where + ": " + prefix + "." + (level != null ? levelKey : "pull") + " is set but "
                        + prefix + ".pin is not");
            }
            return null;
        }
        int address;
        try {
            address = Integer.parseInt(pin);
            if (address < 0) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            throw new ConfigException(where + ": " + prefix + ".pin=" + pin + " is not a pin number (e.g. 17)");
        }
        String lv = (level == null ? defaultLevel : level).toLowerCase(Locale.ROOT);
        if (!lv.equals("high") && !lv.equals("low")) {
            throw new ConfigException(where + ": " + prefix + "." + levelKey + "=" + level + " must be high or low");
        }
        Gpio.Pull pl = switch ((pull == null ? "up" : pull).toLowerCase(Locale.ROOT)) {
            case "up" -> Gpio.Pull.UP;
            case "down" -> Gpio.Pull.DOWN;
            case "none" -> Gpio.Pull.NONE;
            default -> throw new ConfigException(where + ": " + prefix + ".pull=" + pull + " must be up, down or none");
        };
        String id = prefix.substring("inhibit.".length());
        return new InputSpec(new Gpio.InputPin(id, address, pl), lv.equals("high"));
    }

    private static PowerSource power(Properties p, String where) throws ConfigException {
        String v = get(p, "inhibit.power");
        if (v == null || v.equals("none")) return null;
        if (v.equals("sysfs")) return new SysfsPowerSource(SysfsPowerSource.DEFAULT);
        if (v.startsWith("sysfs:") && v.length() > "sysfs:".length()) return new SysfsPowerSource(Path.of(v.substring("sysfs:".length())));
        if (v.equals("fixed:mains")) return FixedPowerSource.MAINS;
        if (v.equals("fixed:battery")) return FixedPowerSource.BATTERY;
        throw new ConfigException(where + ": inhibit.power=" + v + " must be none, sysfs, sysfs:PATH, fixed:mains or fixed:battery");
    }
}
