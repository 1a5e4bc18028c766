package rsuota.agent.activation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import rsuota.agent.config.AgentConfig.ConfigException;
import rsuota.hal.gpio.Gpio;
import rsuota.hal.gpio.SimulatedGpio;

class ActivationConfigTest {

    private static final Path CONF = Path.of("/etc/rsu/agent.conf");

    private static Properties props(String text) throws Exception {
        Properties p = new Properties();
        p.load(new StringReader(text));
        return p;
    }

    @Test
    void windowsInIndexOrderWithTheDefaultZone() throws Exception {
        ActivationConfig c = ActivationConfig.parse(props("""
                activation.zone=Europe/Berlin
                activation.window.10=Sat-Sun 03:00-06:00 UTC
                activation.window.2=Mon-Fri 01:00-04:00
                """), CONF);
        assertThat(c.windows()).extracting(Object::toString)
                .containsExactly("Mon-Fri 01:00-04:00 Europe/Berlin", "Sat-Sun 03:00-06:00 UTC");
        assertThat(c.schedule().isOpen(Instant.parse("2026-11-30T01:00:00Z"))).isTrue();
        assertThat(c.needsGpio()).isFalse();
    }

    @Test
    void noWindowsMeansAnyTime() throws Exception {
        ActivationConfig c = ActivationConfig.parse(props(""), CONF);
        assertThat(c.schedule().describe(Instant.EPOCH)).isEqualTo("open: any time");
    }

    @Test
    void buildsDoorSwitchLockAndPowerInhibitors(@TempDir Path stateDir) throws Exception {
        ActivationConfig c = ActivationConfig.parse(props("""
                inhibit.door.pin=17
                inhibit.switch.pin=27
                inhibit.switch.pull=none
                inhibit.power=fixed:mains
                """), CONF);
        assertThat(c.door()).isEqualTo(new ActivationConfig.InputSpec(new Gpio.InputPin("door", 17, Gpio.Pull.UP), true));
        assertThat(c.techSwitch()).isEqualTo(new ActivationConfig.InputSpec(new Gpio.InputPin("switch", 27, Gpio.Pull.NONE), false));
        SimulatedGpio gpio = new SimulatedGpio();
        gpio.setInput(27, true); // switch released (pulled up)
        Inhibitors inh = c.inhibitors(gpio, stateDir);
        assertThat(inh.sources()).extracting(Inhibitor::name)
                .containsExactly("cabinet door", "technician switch", "technician lock", "power");
        assertThat(inh.activeReasons()).isEmpty();
        gpio.setInput(17, true);
        gpio.setInput(27, false);
        assertThat(inh.activeReasons()).containsExactly("cabinet door open (GPIO input 'door')", "technician switch on (GPIO input 'switch')");
    }

    @Test
    void gpioInputsWithoutAGpioBackendAreRefused(@TempDir Path stateDir) throws Exception {
        ActivationConfig c = ActivationConfig.parse(props("inhibit.door.pin=17"), CONF);
        assertThatThrownBy(() -> c.inhibitors(null, stateDir)).hasMessageContaining("no GPIO backend");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "activation.window.1=Mon-Fri 01:00-04:00               | activation.window.1: maintenance window \"Mon-Fri 01:00-04:00\": names no time zone",
            "activation.window.x=Mon 01:00-02:00 UTC               | activation.window.x: 'x' is not a positive number",
            "activation.window.0=Mon 01:00-02:00 UTC               | activation.window.0: '0' is not a positive number",
            "activation.zone=Mars/Olympus                          | activation.zone=Mars/Olympus is not a time zone",
            "inhibit.door.pin=GPIO17                               | inhibit.door.pin=GPIO17 is not a pin number",
            "inhibit.door.pin=17\\ninhibit.door.openWhen=open      | inhibit.door.openWhen=open must be high or low",
            "inhibit.door.pin=17\\ninhibit.door.pull=sideways      | inhibit.door.pull=sideways must be up, down or none",
            "inhibit.door.openWhen=low                             | inhibit.door.openWhen is set but inhibit.door.pin is not",
            "inhibit.dor.pin=17                                    | unknown key inhibit.dor.pin",
            "inhibit.power=solar                                   | inhibit.power=solar must be none, sysfs"})
    void badLinesAreNamed(String text, String message) {
        assertThatThrownBy(() -> ActivationConfig.parse(props(text.replace("\\n", "\n")), CONF))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(CONF + ": ")
                .hasMessageContaining(message);
    }

    @Test
    void powerSources() throws Exception {
        assertThat(ActivationConfig.parse(props("inhibit.power=sysfs"), CONF).power())
                .isEqualTo(new SysfsPowerSource(Path.of("/sys/class/power_supply/AC/online")));
        assertThat(ActivationConfig.parse(props("inhibit.power=sysfs:/sys/class/power_supply/ACAD/online"), CONF).power())
                .isEqualTo(new SysfsPowerSource(Path.of("/sys/class/power_supply/ACAD/online")));
        assertThat(ActivationConfig.parse(props("inhibit.power=fixed:battery"), CONF).power()).isEqualTo(FixedPowerSource.BATTERY);
        assertThat(ActivationConfig.parse(props("inhibit.power=none"), CONF).power()).isNull();
    }
}
