package rsuota.hal.power;

import java.io.IOException;
import java.util.Objects;

/**
 * Reboot in the simulation: hands over to a callback from the lab or test, which stops this agent,
 * runs the simulated bootloader ({@code SimulatedBootControl.simulateBoot()}) and starts a new
 * agent over the same state directory, the way a real reboot restarts the agent over the same
 * disk. Unlike a real reboot the call returns (after the callback); the caller must then treat
 * itself as stopped.
 *
 * <p>An unchecked exception thrown by the callback propagates to the caller unchanged.
 */
public final class SimulatedReboot implements Reboot {

    /** What the lab does on a reboot; gets the reason given by the agent. */
    @FunctionalInterface
    public interface Callback {
        void reboot(String reason) throws IOException;
    }

    private final Callback callback;

    public SimulatedReboot(Callback callback) {
        this.callback = Objects.requireNonNull(callback, "callback");
    }

    /** For a lab that does not need the reason. */
    public SimulatedReboot(Runnable callback) {
        this(reason -> callback.run());
    }

    @Override
    public void reboot(String reason) throws IOException {
        callback.reboot(reason);
    }
}
