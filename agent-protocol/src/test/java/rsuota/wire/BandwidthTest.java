package rsuota.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BandwidthTest {

    @ParameterizedTest
    @CsvSource({
            "2Mbit/s, 250000", "2 Mbit/s, 250000", "2mbit, 250000", "2Mbps, 250000", "1.5 Mbps, 187500", "512kbit/s, 64000",
            "1Gbit/s, 125000000", "256KiB/s, 262144", "256 KiB, 262144", "500kB/s, 500000", "500KB/s, 500000",
            "1MiB/s, 1048576", "2MB/s, 2000000", "1GiB/s, 1073741824", "65536, 65536", "65536B/s, 65536", "10Gbit/s, 1250000000"})
    void humanUnitsBecomeBytesPerSecond(String text, long bytes) {
        assertThat(Bandwidth.parse(text).bytesPerSecond()).isEqualTo(bytes);
    }

    @Test
    void unlimitedIsNoCap() {
        assertThat(Bandwidth.parse(" Unlimited ").isUnlimited()).isTrue();
        assertThat(Bandwidth.parse("unlimited")).hasToString("unlimited");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "fast|is not a bandwidth", "2 Mb/s|unknown unit 'Mb'", "2Mbyte/s|unknown unit", "-5MiB/s|is not a bandwidth",
            "0|would never download", "0 Mbit/s|would never download", "8KiB/s|8192 bytes/s; a cap must be between 16384",
            "11Gbit/s|a cap must be between", "''|is not a bandwidth"})
    void badTextIsRefusedSayingWhatIsAccepted(String text, String why) {
        assertThatThrownBy(() -> Bandwidth.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(why);
    }

    @ParameterizedTest
    @ValueSource(longs = {16383, -1, 1_250_000_001L})
    void aRecordOutsideTheRangeCannotBeBuilt(long bytes) {
        assertThatThrownBy(() -> new Bandwidth(bytes)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bytes + " bytes/s");
    }

    @Test
    void readsBackInTheUnitsItWasWrittenIn() {
        assertThat(Bandwidth.parse("256KiB/s")).hasToString("256 KiB/s");
        assertThat(Bandwidth.parse("2MiB/s")).hasToString("2 MiB/s");
        assertThat(Bandwidth.parse("2Mbit/s")).hasToString("250000 B/s (2 Mbit/s)");
    }
}
