package rsuota.hal.watchdog;

import java.io.IOException;

/**
 * Something that resets the box or restarts the agent unless it is kicked in time: systemd's
 * service watchdog ({@link SystemdNotifier}) or the hardware watchdog ({@link DevWatchdog}).
 * {@link LoopWatchdog} kicks it only while the agent's main loop makes progress.
 */
public interface Watchdog {

    /** Proves liveness once; throws when the kick could not be delivered. */
    void kick() throws IOException;

    /**
     * Told once when the main loop stopped beating, so the watchdog's owner can say why the kicks
     * stop (systemd shows it as the unit's status). Default: nothing.
     */
    default void stalled(String why) throws IOException {}

    /** For logs: what this watchdog is, e.g. "systemd notify socket /run/systemd/notify". */
    String describe();
}
