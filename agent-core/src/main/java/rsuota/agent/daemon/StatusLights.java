package rsuota.agent.daemon;

import rsuota.agent.activation.ActivationConfig;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.update.UpdateState;
import rsuota.hal.gpio.Gpio;
import rsuota.hal.gpio.GpioException;
import rsuota.hal.gpio.Pi4jGpio;
import rsuota.hal.gpio.SimulatedGpio;
import rsuota.hal.gpio.StatusLed;

/** The box's GPIO as the daemon uses it: which GPIO backend, the status LEDs, and what they show for each engine state. */
final class StatusLights {
    private StatusLights() {}

    /** GPIO for inhibitors and the LED: pi4j on Raspberry Pi based boards, in-memory pins in the simulation. */
    static Gpio gpioFor(AgentConfig c) throws AgentConfig.ConfigException {
        ActivationConfig act = c.activation();
        boolean ledPins = c.leds().activityPin() != null;
        if (c.boot().backend().equals("sim") || (!act.needsGpio() && !ledPins)) return new SimulatedGpio();
        try {
            return Pi4jGpio.onRaspberryPi();
        } catch (GpioException e) {
            throw new AgentConfig.ConfigException(c.file() + ": GPIO pins are configured but GPIO is unavailable: " + e.getMessage());
        }
    }

    /** {@code led.activity.pin} (and optional {@code led.fault.pin}): the status LED, or null. */
    static StatusLed statusLed(AgentConfig c, Gpio gpio) throws AgentConfig.ConfigException {
        Integer a = c.leds().activityPin();
        if (a == null) return null;
        try {
            Gpio.Output activity = gpio.output(new Gpio.OutputPin("status-led", a, false));
            Integer f = c.leds().faultPin();
            return f == null ? new StatusLed(activity) : new StatusLed(activity, gpio.output(new Gpio.OutputPin("fault-led", f, false)));
        } catch (GpioException e) {
            throw new AgentConfig.ConfigException(c.file() + ": status LED: " + e.getMessage());
        }
    }

    static StatusLed.Status ledStatus(UpdateState s) {
        return switch (s) {
            case PENDING, DOWNLOADING -> StatusLed.Status.DOWNLOADING;
            case VERIFIED, AWAITING_WINDOW -> StatusLed.Status.AWAITING_WINDOW;
            case ACTIVATING, COMMITTING, ROLLING_BACK -> StatusLed.Status.TRIAL;
            case FAILED, NEEDS_INVESTIGATION -> StatusLed.Status.FAILED;
            default -> StatusLed.Status.IDLE;
        };
    }
}
