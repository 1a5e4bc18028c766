package rsuota.hal.gpio;

import static org.assertj.core.api.Assertions.assertThat;

import com.pi4j.Pi4J;
import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.plugin.mock.platform.MockPlatform;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInputProvider;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalOutputProvider;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class StatusLedTest {

    private Context context;
    private Pi4jGpio gpio;
    private DigitalOutput green;
    private DigitalOutput red;
    private Gpio.Output greenOut;
    private Gpio.Output redOut;

    @BeforeEach
    void mockPins() throws Exception {
        context = Pi4J.newContextBuilder()
                .add(new MockPlatform())
                .add(MockDigitalInputProvider.newInstance(), MockDigitalOutputProvider.newInstance())
                .build();
        gpio = new Pi4jGpio(context, MockDigitalInputProvider.ID, MockDigitalOutputProvider.ID);
        greenOut = gpio.output(new Gpio.OutputPin("green", 5, false));
        redOut = gpio.output(new Gpio.OutputPin("red", 6, false));
        green = context.registry().get("green", DigitalOutput.class);
        red = context.registry().get("red", DigitalOutput.class);
    }

    @AfterEach
    void close() {
        gpio.close();
    }

    /** The pin levels over one 2 s cycle, read from the pi4j mock after each tick. */
    private static String cycle(StatusLed led, DigitalOutput pin) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < StatusLed.STEPS; i++) {
            sb.append(pin.state() == DigitalState.HIGH ? '1' : '0');
            led.tick();
        }
        return sb.toString();
    }

    @ParameterizedTest
    @CsvSource({
            "IDLE,            11111111",
            "DOWNLOADING,     11001100",
            "AWAITING_WINDOW, 10000000",
            "TRIAL,           10101010",
            "FAILED,          10100000"})
    void oneLedPatterns(StatusLed.Status status, String expected) {
        StatusLed led = new StatusLed(greenOut);
        led.show(status);
        assertThat(cycle(led, green)).isEqualTo(expected);
        assertThat(cycle(led, green)).as("the pattern repeats").isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({
            "IDLE,            11111111, 00000000",
            "DOWNLOADING,     11001100, 00000000",
            "AWAITING_WINDOW, 10000000, 00000000",
            "TRIAL,           10101010, 00000000",
            "FAILED,          00000000, 11111111"})
    void twoLedPatterns(StatusLed.Status status, String activity, String fault) {
        StatusLed led = new StatusLed(greenOut, redOut);
        led.show(status);
        StringBuilder a = new StringBuilder();
        StringBuilder f = new StringBuilder();
        for (int i = 0; i < StatusLed.STEPS; i++) {
            a.append(green.state() == DigitalState.HIGH ? '1' : '0');
            f.append(red.state() == DigitalState.HIGH ? '1' : '0');
            led.tick();
        }
        assertThat(a.toString()).isEqualTo(activity);
        assertThat(f.toString()).isEqualTo(fault);
    }

    @Test
    void aNewStatusStartsItsPatternAtOnceAndCloseTurnsTheLedsOff() {
        StatusLed led = new StatusLed(greenOut, redOut);
        led.show(StatusLed.Status.DOWNLOADING);
        led.tick();
        led.tick(); // now in the dark half of the 1 Hz blink
        assertThat(green.state()).isEqualTo(DigitalState.LOW);
        led.show(StatusLed.Status.TRIAL);
        assertThat(green.state()).isEqualTo(DigitalState.HIGH);
        led.show(StatusLed.Status.FAILED);
        assertThat(red.state()).isEqualTo(DigitalState.HIGH);
        led.close();
        assertThat(green.state()).isEqualTo(DigitalState.LOW);
        assertThat(red.state()).isEqualTo(DigitalState.LOW);
    }

    @Test
    void aScheduledExecutorDrivesThePattern() {
        StatusLed led = new StatusLed(greenOut);
        led.show(StatusLed.Status.TRIAL);
        ScheduledExecutorService ex = Executors.newSingleThreadScheduledExecutor();
        try {
            ScheduledFuture<?> f = led.runOn(ex);
            // TRIAL toggles every tick: both levels show up once the scheduler runs.
            Awaitility.await().until(() -> green.state() == DigitalState.LOW);
            Awaitility.await().until(() -> green.state() == DigitalState.HIGH);
            f.cancel(false);
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void aBrokenPinNeverStopsThePattern() {
        SimulatedGpio sim = new SimulatedGpio();
        Gpio.Output ok = sim.output(new Gpio.OutputPin("ok", 1, false));
        Gpio.Output broken = new Gpio.Output() {
            @Override
            public String id() {
                return "broken";
            }

            @Override
            public void set(boolean high) throws GpioException {
                throw new GpioException("pin broken");
            }

            @Override
            public boolean isHigh() {
                return false;
            }
        };
        StatusLed led = new StatusLed(ok, broken);
        led.show(StatusLed.Status.FAILED);
        led.tick();
        led.show(StatusLed.Status.IDLE);
        assertThat(sim.outputLevel(1)).isTrue();
    }
}
