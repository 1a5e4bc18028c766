package rsuota.agent.activation;

/** A power state that never changes: the simulated device, or a box with no battery at all. */
public record FixedPowerSource(boolean onBattery) implements PowerSource {

    public static final FixedPowerSource MAINS = new FixedPowerSource(false);
    public static final FixedPowerSource BATTERY = new FixedPowerSource(true);

    @Override
    public String describe() {
        return onBattery ? "fixed: battery" : "fixed: mains";
    }
}
