package rsuota.agent.download;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import rsuota.fixtures.time.SettableClock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import rsuota.wire.Bandwidth;

/**
 * A real download through {@link HttpBundleSource} against a loopback HTTP server, capped: the
 * bytes the server sends in any 1-second window stay within the cap plus the throttle's burst and
 * the one piece in flight, and the average is the cap.
 */
class CappedDownloadTest {
    /** 1 MiB ranges, as the download's chunks. */
    static final int RANGE = 1024 * 1024;
    /** The piece in flight when a window opens: at this cap, HttpBundleSource's smallest piece. */
    static final long PIECE = HttpBundleSource.MIN_PIECE;

    @Test
    void aCappedDownloadStaysUnderItsCapInEverySecondAndAveragesIt() throws Exception {
        long cap = 512 * 1024;
        byte[] bundle = new byte[3 * 1024 * 1024];
        new SplittableRandom(15).nextBytes(bundle);
        try (TimedRangeServer server = new TimedRangeServer(bundle)) {
            HttpBundleSource.Options options = HttpBundleSource.Options.defaults()
                    .withBandwidth(BandwidthSchedule.constant(new Bandwidth(cap)));
            byte[] got = new byte[bundle.length];
            long start = System.nanoTime();
            try (HttpBundleSource src = new HttpBundleSource(server.uri(), options)) {
                BundleSource.Identity id = null;
                for (int off = 0; off < bundle.length; off += RANGE) {
                    BundleSource.Fetched f = src.fetch(off, Math.min(RANGE, bundle.length - off), id, null);
                    id = f.identity();
                    System.arraycopy(f.data(), 0, got, off, f.length());
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            assertThat(Arrays.equals(got, bundle)).as("every byte arrived intact").isTrue();
            List<long[]> timeline = server.timeline();
            long burst = new Throttle(BandwidthSchedule.constant(new Bandwidth(cap)), Clock.systemUTC()).burstBytes();
            long worst = ThrottleTest.maxPerWindow(timeline, Duration.ofSeconds(1).toNanos());
            // The steady rate on the link: bytes sent after the first second (the burst and the client's start are behind) over the time they took.
            long t0 = timeline.get(0)[0] + 1_000_000_000L;
            long tEnd = timeline.get(timeline.size() - 1)[0];
            long steadyBytes = timeline.stream().filter(w -> w[0] > t0).mapToLong(w -> w[1]).sum();
            double steady = steadyBytes / ((tEnd - t0) / 1e9);
            System.out.printf("cap %d B/s: %.2f s, steady %.0f B/s (%.1f %% of the cap), worst 1-s window %d B (allowed %d)%n", cap, seconds,
                    steady, 100 * steady / cap, worst, cap + burst + PIECE);
            assertThat(worst).as("bytes sent in the worst 1-second window").isLessThanOrEqualTo(cap + burst + PIECE);
            assertThat(seconds).as("download time at the cap").isGreaterThanOrEqualTo((bundle.length - burst - PIECE) / (double) cap);
            assertThat(steady).as("steady rate on the link").isBetween(0.95 * cap, 1.05 * cap);
        }
    }

    /**
     * The clock reaches the schedule's unlimited window while a piece waits for its tokens: the cap
     * lifts mid-download and the rest comes in one request. Time is the test's: the capped pieces
     * move only when the clock is moved (the source sleeps at most until the boundary, then asks again).
     */
    @Test
    void theCapLiftsMidDownloadWhenTheScheduleReachesItsUnlimitedWindow() throws Exception {
        byte[] bundle = new byte[1024 * 1024];
        new SplittableRandom(16).nextBytes(bundle);
        SettableClock clock = new SettableClock(Instant.parse("2026-06-01T21:59:50Z"));
        BandwidthSchedule night = new BandwidthSchedule(new Bandwidth(64 * 1024),
                List.of(BandwidthSchedule.parseRule("22:00-05:00 unlimited", ZoneOffset.UTC)));
        HttpBundleSource.Options d = HttpBundleSource.Options.defaults();
        HttpBundleSource.Options options = new HttpBundleSource.Options(d.connectTimeout(), d.headerTimeout(), d.stallTimeout(), null, night, clock);
        try (TimedRangeServer server = new TimedRangeServer(bundle);
             HttpBundleSource src = new HttpBundleSource(server.uri(), options)) {
            CompletableFuture<BundleSource.Fetched> f = CompletableFuture.supplyAsync(() -> {
                try {
                    return src.fetch(0, bundle.length, null, null);
                } catch (FetchException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            // The first piece (16 KiB, the smallest) costs a quarter second at the day cap: it is asked for once the
            // clock has moved that long (moved here 100 ms per poll, with 10 s to spare before 22:00).
            Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (!server.ranges().isEmpty()) return true;
                clock.advance(Duration.ofMillis(100));
                return false;
            });
            assertThat(clock.instant()).isBefore(Instant.parse("2026-06-01T21:59:51Z"));
            assertThat(server.ranges()).containsExactly("0-16383");
            // 22:00: the second piece is free, and it is the whole rest.
            clock.set(Instant.parse("2026-06-01T22:00:00Z"));
            BundleSource.Fetched got = f.get(10, TimeUnit.SECONDS);
            assertThat(server.ranges()).containsExactly("0-16383", "16384-1048575");
            assertThat(Arrays.equals(Arrays.copyOf(got.data(), got.length()), bundle)).isTrue();
        }
    }
}
