package rsuota.agent.update;

import rsuota.agent.AgentException;
import rsuota.agent.AgentError;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.activation.Inhibitors;
import rsuota.agent.activation.InvalidWindowException;
import rsuota.agent.activation.MaintenanceWindow;
import rsuota.agent.activation.WindowSchedule;

/**
 * Whether an ordered activation may start now: inside the device's maintenance windows (any time
 * for a technician's {@code --now}) narrowed by the order's window and earliest instant, and no
 * inhibitor holding. Reads only; the engine persists {@code WINDOW_OPEN} when this says go.
 */
final class ActivationGate {
    /** Logs as {@link UpdateEngine}: the logger name is in every line, and operators filter on it. */
    private static final Logger log = LoggerFactory.getLogger(UpdateEngine.class);

    private final WindowSchedule device;
    private final Inhibitors inhibitors;

    ActivationGate(WindowSchedule device, Inhibitors inhibitors) {
        this.device = device;
        this.inhibitors = inhibitors;
    }

    /** Refuses an order's window that does not parse ({@code BAD_WINDOW}), before anything is persisted. */
    static void checkWindow(String window) throws AgentException {
        if (window != null) {
            try {
                MaintenanceWindow.parse(window);
            } catch (InvalidWindowException e) {
                throw new AgentException(AgentError.BAD_WINDOW, e.getMessage());
            }
        }
    }

    WindowSchedule scheduleFor(EngineState.Activation a) {
        WindowSchedule base = a.now() ? WindowSchedule.anyTime() : device;
        MaintenanceWindow w = null;
        if (a.window() != null) {
            try {
                w = MaintenanceWindow.parse(a.window());
            } catch (InvalidWindowException e) {
                log.error("stored order window '{}' no longer parses: {}", a.window(), e.getMessage());
            }
        }
        return base.narrowedBy(a.activateAfter(), w);
    }

    /** What activation waits for at {@code t} (window, inhibitors), or null when it may start. */
    String waitingFor(EngineState.Activation a, Instant t) {
        WindowSchedule schedule = scheduleFor(a);
        java.util.List<String> held = inhibitors.activeReasons();
        if (!schedule.isOpen(t)) {
            return schedule.describe(t) + (held.isEmpty() ? "" : "; held by " + String.join(", ", held));
        }
        if (!held.isEmpty()) {
            return "held by " + String.join(", ", held);
        }
        return null;
    }
}
