package rsuota.agent.activation;

import java.util.Optional;
import rsuota.hal.gpio.Gpio;
import rsuota.hal.gpio.GpioException;

/**
 * Holds activation while a GPIO input is at its active level: the cabinet door contact (a
 * technician is at the box) or the technician's maintenance switch.
 *
 * @param name         e.g. "cabinet door"
 * @param input        the pin
 * @param activeHigh   true when a high level means "hold" (e.g. door open)
 * @param activeReason the hold reason shown in the status, e.g. "cabinet door open"
 */
public record GpioInhibitor(String name, Gpio.Input input, boolean activeHigh, String activeReason) implements Inhibitor {

    @Override
    public Optional<String> holdReason() {
        try {
            return input.isHigh() == activeHigh ? Optional.of(activeReason + " (GPIO input '" + input.id() + "')") : Optional.empty();
        } catch (GpioException e) {
            return Optional.of(name + " state unknown, holding to be safe: " + e.getMessage());
        }
    }

    /** Calls {@code r} whenever the pin changes, so the engine re-checks at once (e.g. the door was closed). */
    public Gpio.Subscription onChange(Runnable r) {
        return input.onChange(level -> r.run());
    }
}
