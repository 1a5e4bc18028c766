package rsuota.hal.gpio;

import java.util.function.Consumer;

/**
 * The agent's own view of GPIO: a few digital inputs (cabinet door, technician switch) and outputs
 * (status LED). Levels are raw electrical levels ({@code true} = high); what a level means
 * (door open when high or low) is the caller's configuration, not the backend's.
 *
 * <p>Backends: {@link Pi4jGpio} (pi4j, real pins on Raspberry Pi based boards) and
 * {@link SimulatedGpio} (in memory, for the lab and tests). Another board gets another backend
 * without touching the agent.
 *
 * <p>Failures: opening a pin that the backend cannot provide, or reading/writing a pin that failed,
 * throws {@link GpioException} naming the pin. Closing releases every pin it opened; after that,
 * pins must not be used.
 */
public interface Gpio extends AutoCloseable {

    enum Pull { NONE, UP, DOWN }

    /**
     * @param id      a short name for logs and errors, e.g. "door"
     * @param address the backend's pin number (BCM numbering for pi4j on a Raspberry Pi)
     * @param pull    internal pull resistor; a switch to ground wants {@link Pull#UP}
     */
    record InputPin(String id, int address, Pull pull) {
        public InputPin {
            if (id == null || id.isBlank()) throw new IllegalArgumentException("GPIO input needs an id");
            if (address < 0) throw new IllegalArgumentException("GPIO input " + id + ": address " + address + " is negative");
            if (pull == null) pull = Pull.NONE;
        }
    }

    /** @param initialHigh the level set when the pin is opened, before anyone writes it */
    record OutputPin(String id, int address, boolean initialHigh) {
        public OutputPin {
            if (id == null || id.isBlank()) throw new IllegalArgumentException("GPIO output needs an id");
            if (address < 0) throw new IllegalArgumentException("GPIO output " + id + ": address " + address + " is negative");
        }
    }

    interface Input {
        String id();

        /** The current level; throws when the backend cannot read the pin. */
        boolean isHigh() throws GpioException;

        /**
         * Calls {@code listener} with the new level on every change, on the backend's thread (pi4j:
         * its event thread; simulated: the thread that changed the level). Listeners must be quick
         * and must not throw. Returns a handle that removes the listener.
         */
        Subscription onChange(Consumer<Boolean> listener);
    }

    interface Output {
        String id();

        void set(boolean high) throws GpioException;

        /** The level last written (or the initial one). */
        boolean isHigh();
    }

    /** Removes a listener; removing twice is harmless. */
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    Input input(InputPin pin) throws GpioException;

    Output output(OutputPin pin) throws GpioException;

    @Override
    void close();
}
