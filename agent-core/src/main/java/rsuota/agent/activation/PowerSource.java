package rsuota.agent.activation;

import java.io.IOException;

/** Whether the box runs on mains or on its battery (a reboot on a dying battery may not come back). */
public interface PowerSource {

    /** True on battery; throws when the power state cannot be read. */
    boolean onBattery() throws IOException;

    /** For messages, e.g. "/sys/class/power_supply/AC/online". */
    String describe();
}
