package rsuota.fleet.app;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The engine's ticks start one period apart, so a rule's pause is judged within one period of its sustained window
 * ending however long a tick takes; after a tick that ran the whole period or longer a quarter period is left free.
 */
class TickScheduleTest {
    @Test
    void theNextTickStartsOnePeriodAfterThisOneStartedButNeverSoonerThanAQuarterPeriodAfterItEnds() {
        assertThat(Controller.nextTickDelayMs(1000, 0)).isEqualTo(1000);
        assertThat(Controller.nextTickDelayMs(1000, 300)).as("start to start: 300 + 700").isEqualTo(700);
        assertThat(Controller.nextTickDelayMs(1000, 740)).isEqualTo(260);
        assertThat(Controller.nextTickDelayMs(1000, 760)).as("a quarter period at least").isEqualTo(250);
        assertThat(Controller.nextTickDelayMs(1000, 6000)).as("a long tick (a wave's pause) is followed by room for ingest").isEqualTo(250);
        assertThat(Controller.nextTickDelayMs(10_000, 2_000)).isEqualTo(8_000);
    }
}
