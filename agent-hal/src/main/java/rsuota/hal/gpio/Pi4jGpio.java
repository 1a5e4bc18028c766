package rsuota.hal.gpio;

import com.pi4j.Pi4J;
import com.pi4j.context.Context;
import com.pi4j.exception.Pi4JException;
import com.pi4j.io.IOType;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalInputConfigBuilder;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalOutputConfigBuilder;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.gpio.digital.DigitalStateChangeListener;
import com.pi4j.io.gpio.digital.PullResistance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GPIO through pi4j 2.7.0, the last pi4j line that runs on Java 17.
 *
 * <p>The pi4j {@link Context} is built by the caller with exactly the platform and providers it
 * needs (tests: the mock platform and mock providers; a Raspberry Pi: {@link #onRaspberryPi()}),
 * because pi4j's auto-detection silently loads nothing when a plugin is missing and the failure
 * then shows up much later as a confusing "no provider" on first use. This class owns the context
 * and shuts it down on {@link #close()}.
 *
 * <p>Real pins work only on Raspberry Pi based boards: pi4j's gpiod provider refuses other boards
 * and ships native code for armhf/aarch64 only (FIELD-NOTES). Other boards need another
 * {@link Gpio} backend (e.g. libgpiod through JNA).
 */
public final class Pi4jGpio implements Gpio {

    /** Where the Linux device tree names the board, e.g. "Raspberry Pi 4 Model B Rev 1.5". */
    public static final Path DEVICE_TREE_MODEL = Path.of("/proc/device-tree/model");

    private static final Logger log = LoggerFactory.getLogger(Pi4jGpio.class);

    private final Context context;
    private final String inputProvider;
    private final String outputProvider;

    /** Uses the context's default digital input/output providers. */
    public Pi4jGpio(Context context) {
        this(context, null, null);
    }

    /**
     * @param inputProvider  pi4j provider id for inputs (e.g. "mock-digital-input",
     *                       "gpiod-digital-input"), or null for the context's default
     * @param outputProvider likewise for outputs
     */
    public Pi4jGpio(Context context, String inputProvider, String outputProvider) {
        if (context == null) throw new IllegalArgumentException("pi4j context must not be null");
        this.context = context;
        this.inputProvider = inputProvider;
        this.outputProvider = outputProvider;
    }

    /** {@link #onRaspberryPi(Path)} with the real device tree. */
    public static Pi4jGpio onRaspberryPi() throws GpioException {
        return onRaspberryPi(DEVICE_TREE_MODEL);
    }

    /**
     * Checks that the board is a Raspberry Pi, then builds a context from the pi4j plugins on the
     * class path (the gpiod plugin must be installed next to the agent's jars). Fails with a message
     * saying which of the two is missing.
     */
    public static Pi4jGpio onRaspberryPi(Path modelFile) throws GpioException {
        String model;
        try {
            // The device tree string ends in a NUL byte.
            model = new String(Files.readAllBytes(modelFile), StandardCharsets.UTF_8).replace("\0", "").strip();
        } catch (NoSuchFileException e) {
            model = "(no " + modelFile + ": not a device-tree board)";
        } catch (IOException e) {
            throw new GpioException("pi4j gpio: cannot read the board model from " + modelFile + ": " + e.getMessage(), e);
        }
        if (!model.contains("Raspberry Pi")) {
            throw new GpioException("pi4j gpio: real pins work only on Raspberry Pi based boards, this board is '" + model
                    + "'; disable GPIO in the config or use another GPIO backend");
        }
        Context ctx;
        try {
            ctx = Pi4J.newContextBuilder().autoDetectPlatforms().autoDetectProviders().build();
        } catch (Pi4JException e) {
            throw new GpioException("pi4j gpio: cannot build the pi4j context on '" + model + "': " + e.getMessage(), e);
        }
        if (!ctx.hasProvider(IOType.DIGITAL_INPUT) || !ctx.hasProvider(IOType.DIGITAL_OUTPUT)) {
            shutdownQuietly(ctx);
            throw new GpioException("pi4j gpio: no digital input/output provider found on '" + model
                    + "'; install the pi4j-plugin-gpiod 2.7.0 jar in the agent's lib folder");
        }
        return new Pi4jGpio(ctx);
    }

    @Override
    public Input input(InputPin pin) throws GpioException {
        DigitalInputConfigBuilder b = DigitalInput.newConfigBuilder(context)
                .id(pin.id()).name(pin.id()).address(pin.address()).pull(pull(pin.pull()));
        if (inputProvider != null) b.provider(inputProvider);
        DigitalInput in;
        try {
            in = context.create(b);
        } catch (Pi4JException e) {
            throw new GpioException("pi4j gpio: cannot open input " + describe(pin.id(), pin.address()) + ": " + e.getMessage(), e);
        }
        return new Pi4jInput(pin, in);
    }

    @Override
    public Output output(OutputPin pin) throws GpioException {
        DigitalState initial = pin.initialHigh() ? DigitalState.HIGH : DigitalState.LOW;
        DigitalOutputConfigBuilder b = DigitalOutput.newConfigBuilder(context)
                .id(pin.id()).name(pin.id()).address(pin.address())
                // Leave the pin low when pi4j shuts down, so a stopped agent shows a dark LED, not a stale pattern.
                .initial(initial).shutdown(DigitalState.LOW);
        if (outputProvider != null) b.provider(outputProvider);
        DigitalOutput out;
        try {
            out = context.create(b);
            // Some providers ignore initial(); writing it makes the documented initial level true everywhere.
            out.state(initial);
        } catch (Pi4JException e) {
            throw new GpioException("pi4j gpio: cannot open output " + describe(pin.id(), pin.address()) + ": " + e.getMessage(), e);
        }
        return new Pi4jOutput(pin, out, pin.initialHigh());
    }

    @Override
    public void close() {
        shutdownQuietly(context);
    }

    private static void shutdownQuietly(Context ctx) {
        try {
            ctx.shutdown();
        } catch (Pi4JException e) {
            // Nothing more can be done with the pins at shutdown; say so and let the agent stop.
            log.warn("pi4j gpio: shutdown failed: {}", e.getMessage());
        }
    }

    private static PullResistance pull(Pull p) {
        return switch (p) {
            case UP -> PullResistance.PULL_UP;
            case DOWN -> PullResistance.PULL_DOWN;
            case NONE -> PullResistance.OFF;
        };
    }

    private static String describe(String id, int address) {
        return "'" + id + "' (pin " + address + ")";
    }

    private record Pi4jInput(InputPin pin, DigitalInput in) implements Input {
        @Override
        public String id() {
            return pin.id();
        }

        @Override
        public boolean isHigh() throws GpioException {
            DigitalState s;
            try {
                s = in.state();
            } catch (Pi4JException e) {
                throw new GpioException("pi4j gpio: cannot read input " + describe(pin.id(), pin.address()) + ": " + e.getMessage(), e);
            }
            if (s == DigitalState.UNKNOWN) {
                throw new GpioException("pi4j gpio: input " + describe(pin.id(), pin.address()) + " reports an unknown level");
            }
            return s.isHigh();
        }

        @Override
        public Subscription onChange(Consumer<Boolean> listener) {
            DigitalStateChangeListener l = event -> {
                DigitalState s = event.state();
                if (s != DigitalState.UNKNOWN) listener.accept(s.isHigh());
            };
            in.addListener(l);
            return () -> in.removeListener(l);
        }
    }

    private static final class Pi4jOutput implements Output {
        private final OutputPin pin;
        private final DigitalOutput out;
        private volatile boolean high;

        Pi4jOutput(OutputPin pin, DigitalOutput out, boolean high) {
            this.pin = pin;
            this.out = out;
            this.high = high;
        }

        @Override
        public String id() {
            return pin.id();
        }

        @Override
        public void set(boolean level) throws GpioException {
            try {
                out.state(level ? DigitalState.HIGH : DigitalState.LOW);
            } catch (Pi4JException e) {
                throw new GpioException("pi4j gpio: cannot write output " + describe(pin.id(), pin.address()) + ": " + e.getMessage(), e);
            }
            high = level;
        }

        @Override
        public boolean isHigh() {
            return high;
        }
    }
}
