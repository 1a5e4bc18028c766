package rsuota.agent.activation;

import java.io.IOException;
import java.util.Optional;

/** Holds activation while the box runs on battery, or while its power state cannot be read. */
public record BatteryInhibitor(PowerSource power) implements Inhibitor {

    @Override
    public String name() {
        return "power";
    }

    @Override
    public Optional<String> holdReason() {
        try {
            return power.onBattery() ? Optional.of("running on battery (" + power.describe() + ")") : Optional.empty();
        } catch (IOException e) {
            return Optional.of("power state unknown, holding to be safe: " + e.getMessage());
        }
    }
}
