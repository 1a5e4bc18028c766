package rsuota.agent.download;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import rsuota.fixtures.time.SettableClock;
import rsuota.wire.Bandwidth;

/** The token bucket, driven by a settable clock: exact accounting, no sleeping. */
class ThrottleTest {
    static final long RATE = 100_000; // bytes/s: 25_000 bytes of burst (250 ms)

    final SettableClock clock = new SettableClock(Instant.parse("2026-06-01T12:00:00Z"));

    Throttle capped(long rate) {
        return new Throttle(BandwidthSchedule.constant(new Bandwidth(rate)), clock);
    }

    @Test
    void startsEmptyThenEveryByteCostsItsTimeExactly() {
        Throttle t = capped(RATE);
        assertThat(t.burstBytes()).isEqualTo(25_000);
        assertThat(t.tokens()).isZero();
        // 5000 bytes of debt at 100 kB/s: 50 ms before the next read.
        assertThat(t.take(5_000)).isEqualTo(50_000_000L);
        clock.advance(Duration.ofMillis(20));
        assertThat(t.tokens()).isEqualTo(-3_000);
        assertThat(t.take(0)).isEqualTo(30_000_000L);
        clock.advance(Duration.ofMillis(30));
        assertThat(t.take(0)).isZero();
        assertThat(t.tokens()).isZero();
    }

    @Test
    void idleTimeBuysNoMoreThanOneBurst() {
        Throttle t = capped(RATE);
        clock.advance(Duration.ofHours(3));
        assertThat(t.tokens()).isEqualTo(25_000);
        assertThat(t.take(25_001)).isEqualTo(10_000L); // one byte of debt = 10 us
    }

    @Test
    void aClockSteppedBackGivesNoTokens() {
        Throttle t = capped(RATE);
        clock.advance(Duration.ofMillis(-500));
        assertThat(t.tokens()).isZero();
        clock.advance(Duration.ofMillis(10));
        assertThat(t.tokens()).isEqualTo(1_000);
    }

    /** A reader that pays before it reads never gets more than cap + burst + one read into any 1-second window. */
    @Test
    void noOneSecondWindowExceedsTheCapByMoreThanTheBurstAndOneRead() {
        Throttle t = capped(RATE);
        int read = 16_384;
        List<long[]> reads = new ArrayList<>(); // {nanos since start, bytes}
        long start = clock.instant().toEpochMilli() * 1_000_000L;
        long total = 0;
        Instant end = clock.instant().plusSeconds(20);
        // As HttpBundleSource does: pay for a piece, wait out the debt, then fetch it.
        for (int i = 0; i < 100_000 && clock.instant().isBefore(end); i++) {
            long wait = t.take(read);
            for (int k = 0; wait > 0 && k < 1000; k++) {
                clock.advance(Duration.ofNanos(wait));
                wait = t.take(0);
            }
            reads.add(new long[] {nanos(clock.instant()) - start, read});
            total += read;
        }
        long maxWindow = maxPerWindow(reads, 1_000_000_000L);
        assertThat(maxWindow).isLessThanOrEqualTo(RATE + t.burstBytes() + read);
        // and the cap is what it gets: 20 s at 100 kB/s, give or take the burst and one read
        assertThat(total).isBetween(20 * RATE - read, 20 * RATE + t.burstBytes() + read);
    }

    @Test
    void theCapChangesAtTheScheduleBoundaryAndAWaitNeverReachesPastIt() {
        BandwidthSchedule s = new BandwidthSchedule(new Bandwidth(RATE),
                List.of(BandwidthSchedule.parseRule("22:00-05:00 unlimited", ZoneOffset.UTC)));
        clock.set(Instant.parse("2026-06-01T21:59:59.950Z"));
        Throttle t = new Throttle(s, clock);
        assertThat(t.cap().bytesPerSecond()).isEqualTo(RATE);
        // 40_000 bytes from an empty bucket would cost 400 ms at the day cap; unlimited opens in 50 ms.
        assertThat(t.take(40_000)).isEqualTo(50_000_000L);
        clock.advance(Duration.ofMillis(50));
        assertThat(t.cap().isUnlimited()).isTrue();
        assertThat(t.take(0)).isZero();
        assertThat(t.take(500_000_000)).isZero();
        // 05:00: capped again, starting empty (nothing banked while unlimited)
        clock.set(Instant.parse("2026-06-02T05:00:00Z"));
        assertThat(t.cap().bytesPerSecond()).isEqualTo(RATE);
        assertThat(t.tokens()).isZero();
        assertThat(t.take(1_000)).isEqualTo(10_000_000L);
    }

    @Test
    void aLowerCapTakesOverWithTheBucketCutToItsBurstAndTheDebtPaidAtTheNewRate() {
        BandwidthSchedule s = new BandwidthSchedule(new Bandwidth(1_000_000),
                List.of(BandwidthSchedule.parseRule("Mon 13:00-14:00 " + RATE, ZoneOffset.UTC)));
        clock.set(Instant.parse("2026-06-01T12:59:59Z")); // a Monday
        Throttle t = new Throttle(s, clock);
        assertThat(t.burstBytes()).isEqualTo(250_000);
        clock.advance(Duration.ofSeconds(1)); // a full bucket at 1 MB/s by 13:00, cut to the new cap's 25_000
        assertThat(t.cap().bytesPerSecond()).isEqualTo(RATE);
        assertThat(t.tokens()).isEqualTo(25_000);
        assertThat(t.take(45_000)).isEqualTo(200_000_000L);
    }

    @Test
    void unlimitedNeverWaits() {
        Throttle t = new Throttle(BandwidthSchedule.unlimited(), clock);
        assertThat(t.take(Long.MAX_VALUE / 2_000_000_000L)).isZero();
        assertThat(t.cap().isUnlimited()).isTrue();
    }

    static long nanos(Instant i) {
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    /** The most bytes in any window of {@code window} ns ending at a read, over reads sorted by time. */
    static long maxPerWindow(List<long[]> reads, long window) {
        long max = 0;
        long sum = 0;
        int from = 0;
        for (int i = 0; i < reads.size(); i++) {
            sum += reads.get(i)[1];
            while (reads.get(from)[0] <= reads.get(i)[0] - window) sum -= reads.get(from++)[1];
            max = Math.max(max, sum);
        }
        return max;
    }
}
