package rsuota.agent.update;

import rsuota.agent.AgentException;
import rsuota.agent.AgentError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.hal.boot.BootControl;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.Slot;

/**
 * The questions the engine asks the bootloader on every step (which slot runs, which is free to
 * write, how many tries a trial has left), with a bootloader failure turned into the install
 * failure {@code BOOT_CONTROL}: the engine cannot decide anything about slots it cannot read.
 */
final class BootSlots {
    /** Logs as {@link UpdateEngine}: the logger name is in every line, and operators filter on it. */
    private static final Logger log = LoggerFactory.getLogger(UpdateEngine.class);

    private final BootControl boot;

    BootSlots(BootControl boot) {
        this.boot = boot;
    }

    Slot booted() throws AgentException {
        try {
            return boot.booted();
        } catch (BootControlException e) {
            throw new AgentException(AgentError.BOOT_CONTROL, e.getMessage());
        }
    }

    /** The slot that does not run: the only one a download may write. */
    Slot inactive() throws AgentException {
        return booted().other();
    }

    int triesLeft(Slot s) throws AgentException {
        try {
            return boot.state().triesLeft().getOrDefault(s, 0);
        } catch (BootControlException e) {
            throw new AgentException(AgentError.BOOT_CONTROL, e.getMessage());
        }
    }

    /**
     * Marks a slot that already failed unbootable, logging a bootloader failure: the state that
     * says it is bad is persisted already, and the bootloader's own tries are spent anyway.
     */
    void markBadQuietly(Slot s) {
        try {
            boot.markBad(s);
        } catch (BootControlException e) {
            log.error("cannot mark slot {} bad: {}", s, e.getMessage());
        }
    }
}
