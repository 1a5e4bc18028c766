package rsuota.hal.gpio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pi4j.Pi4J;
import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.plugin.mock.platform.MockPlatform;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInputProvider;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalOutputProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Pi4jGpioTest {

    private Context context;
    private Pi4jGpio gpio;

    @BeforeEach
    void mockContext() {
        // autoDetectMockPlugins() alone loads no providers (FIELD-NOTES): add platform and providers explicitly.
        context = Pi4J.newContextBuilder()
                .add(new MockPlatform())
                .add(MockDigitalInputProvider.newInstance(), MockDigitalOutputProvider.newInstance())
                .build();
        gpio = new Pi4jGpio(context, MockDigitalInputProvider.ID, MockDigitalOutputProvider.ID);
    }

    @AfterEach
    void close() {
        gpio.close();
    }


    @Test
    void inputReadsTheMockLevelAndListenersSeeChanges() throws Exception {
        Gpio.Input door = gpio.input(new Gpio.InputPin("door", 17, Gpio.Pull.UP));
        MockDigitalInput pin = (MockDigitalInput) context.registry().get("door", DigitalInput.class);
        pin.mockState(DigitalState.LOW);
        assertThat(door.isHigh()).isFalse();

        List<Boolean> seen = new CopyOnWriteArrayList<>();
        Gpio.Subscription sub = door.onChange(seen::add);
        pin.mockState(DigitalState.HIGH);
        assertThat(door.isHigh()).isTrue();
        pin.mockState(DigitalState.LOW);
        assertThat(seen).containsExactly(true, false);

        sub.close();
        pin.mockState(DigitalState.HIGH);
        assertThat(seen).containsExactly(true, false);
    }

    @Test
    void outputWritesThePinAndStartsAtItsInitialLevel() throws Exception {
        Gpio.Output led = gpio.output(new Gpio.OutputPin("led", 23, true));
        DigitalOutput pin = context.registry().get("led", DigitalOutput.class);
        assertThat(pin.state()).isEqualTo(DigitalState.HIGH);
        assertThat(led.isHigh()).isTrue();

        led.set(false);
        assertThat(pin.state()).isEqualTo(DigitalState.LOW);
        assertThat(led.isHigh()).isFalse();
    }

    @Test
    void aPinOpenedTwiceFailsNamingThePin() throws Exception {
        gpio.input(new Gpio.InputPin("door", 17, Gpio.Pull.NONE));
        assertThatThrownBy(() -> gpio.input(new Gpio.InputPin("door", 17, Gpio.Pull.NONE)))
                .isInstanceOf(GpioException.class)
                .hasMessageContaining("cannot open input 'door' (pin 17)");
    }

    @Test
    void anUnknownProviderFailsOnOpenNotLater() {
        Pi4jGpio wrong = new Pi4jGpio(context, "gpiod-digital-input", "gpiod-digital-output");
        assertThatThrownBy(() -> wrong.input(new Gpio.InputPin("door", 17, Gpio.Pull.NONE)))
                .isInstanceOf(GpioException.class)
                .hasMessageContaining("'door' (pin 17)");
    }

    @Test
    void refusesBoardsThatAreNotARaspberryPi(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("model");
        Files.writeString(model, "Generic x86 Board\0");
        assertThatThrownBy(() -> Pi4jGpio.onRaspberryPi(model))
                .isInstanceOf(GpioException.class)
                .hasMessageContaining("only on Raspberry Pi based boards")
                .hasMessageContaining("Generic x86 Board");
        assertThatThrownBy(() -> Pi4jGpio.onRaspberryPi(dir.resolve("missing")))
                .isInstanceOf(GpioException.class)
                .hasMessageContaining("not a device-tree board");
    }
}
