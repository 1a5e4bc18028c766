package rsuota.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ByteSizesTest {
    @Test
    void unitsAndPlainNumbers() {
        assertThat(ByteSizes.parse("65536")).isEqualTo(65536);
        assertThat(ByteSizes.parse("4MiB")).isEqualTo(4L << 20);
        assertThat(ByteSizes.parse("512 kib")).isEqualTo(512L << 10);
        assertThat(ByteSizes.parse("1G")).isEqualTo(1L << 30);
    }

    @Test
    void badTextAndOverflowAreRefusedWithTheText() {
        assertThatThrownBy(() -> ByteSizes.parse("4 furlongs")).hasMessageContaining("4 furlongs").hasMessageContaining("e.g.");
        assertThatThrownBy(() -> ByteSizes.parse("999999999999999GiB")).hasMessageContaining("too large");
        assertThatThrownBy(() -> ByteSizes.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
