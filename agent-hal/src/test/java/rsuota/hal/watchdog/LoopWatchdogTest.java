package rsuota.hal.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoopWatchdogTest {

    private static final Duration MAX_AGE = Duration.ofSeconds(30);

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    /** The monotonic clock the watchdog sees; only the test moves it. */
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Test
    void kicksReachARealNotifySocketWhileTheLoopBeatsAndStopWhenItStalls(@TempDir Path dir) throws Exception {
        String path = dir.resolve("notify.sock").toString();
        try (DatagramReceiver rx = new DatagramReceiver(path)) {
            SystemdNotifier notifier = new SystemdNotifier(path);
            notifier.ready();
            // A real scheduler thread checking every 10 ms; staleness is decided by the test's clock.
            try (LoopWatchdog wd = new LoopWatchdog(notifier, Duration.ofMillis(10), MAX_AGE, scheduler, nanos::get)) {
                wd.start();
                wd.beat();
                await().until(() -> rx.datagrams().stream().filter("WATCHDOG=1"::equals).count() >= 3);
                assertThat(rx.datagrams().get(0)).isEqualTo("READY=1");

                // The loop hangs: no beat for longer than the allowed age.
                advance(MAX_AGE.plusSeconds(1));
                await().until(() -> rx.datagrams().stream().anyMatch(s -> s.startsWith("STATUS=main loop stalled")));
                long checksAtStall = wd.checks();
                await().until(() -> wd.checks() >= checksAtStall + 10);
                notifier.status("marker");
                await().until(() -> rx.datagrams().contains("STATUS=marker"));
                List<String> got = rx.datagrams();
                int stalledAt = indexOfPrefix(got, "STATUS=main loop stalled");
                assertThat(got.subList(stalledAt + 1, got.indexOf("STATUS=marker")))
                        .as("no WATCHDOG=1 in at least 10 checks after the stall").isEmpty();
                assertThat(got.get(stalledAt)).isEqualTo("STATUS=main loop stalled: no progress for 31 s, watchdog kicks stopped");

                // The loop recovers: kicks resume.
                wd.beat();
                await().until(() -> {
                    List<String> now = rx.datagrams();
                    return now.subList(now.indexOf("STATUS=marker"), now.size()).contains("WATCHDOG=1");
                });
            }
        }
    }

    private static int indexOfPrefix(List<String> l, String prefix) {
        for (int i = 0; i < l.size(); i++) if (l.get(i).startsWith(prefix)) return i;
        return -1;
    }

    /** Records what the loop watchdog does, and can be told to fail. */
    private static final class RecordingWatchdog implements Watchdog {
        final List<String> calls = new CopyOnWriteArrayList<>();
        volatile boolean fail;

        @Override
        public void kick() throws IOException {
            if (fail) throw new IOException("kick refused");
            calls.add("kick");
        }

        @Override
        public void stalled(String why) {
            calls.add("stalled");
        }

        @Override
        public String describe() {
            return "recording";
        }
    }

    @Test
    void decisionsFollowTheBeatAgeExactly() {
        RecordingWatchdog rec = new RecordingWatchdog();
        LoopWatchdog wd = new LoopWatchdog(rec, Duration.ofSeconds(1), MAX_AGE, scheduler, nanos::get);
        assertThat(wd.check()).as("starting counts as a beat").isTrue();
        advance(MAX_AGE);
        assertThat(wd.check()).as("exactly max age is still fresh").isTrue();
        advance(Duration.ofNanos(1));
        assertThat(wd.check()).isFalse();
        assertThat(wd.check()).isFalse();
        wd.beat();
        assertThat(wd.check()).isTrue();
        assertThat(rec.calls).containsExactly("kick", "kick", "stalled", "kick");
        assertThat(wd.kicks()).isEqualTo(3);
        assertThat(wd.checks()).isEqualTo(5);
    }

    @Test
    void aFailingKickIsReportedAsNotKickedAndTheNextCheckTriesAgain() {
        RecordingWatchdog rec = new RecordingWatchdog();
        LoopWatchdog wd = new LoopWatchdog(rec, Duration.ofSeconds(1), MAX_AGE, scheduler, nanos::get);
        rec.fail = true;
        assertThat(wd.check()).isFalse();
        rec.fail = false;
        assertThat(wd.check()).isTrue();
        assertThat(wd.kicks()).isEqualTo(1);
    }
}
