package rsuota.fleet.policy;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Recent KPI samples per device, for the rules' sliding windows. Samples are stamped with the
 * controller's receive time: a box without a trustworthy clock cannot move itself in or out of a
 * window. A bounded ring per device keeps memory flat (10,000 devices x {@value #CAPACITY}
 * samples is ~8 MB of primitives).
 *
 * <p>It is a cache of the store, not a source of truth: after a restart it starts from each
 * device's last stored state snapshot (see {@code TelemetryIngest}), and the window refills
 * within one window length; rule timers themselves are persisted.
 */
public final class TelemetryWindow {
    /** At one report per 10 s this covers a 5-minute window with room to spare. */
    static final int CAPACITY = 48;

    private final Map<String, Series> series = new ConcurrentHashMap<>();

    public void record(String deviceId, Instant at, DeviceKpis k) {
        series.computeIfAbsent(deviceId, id -> new Series()).add(at.toEpochMilli(), k);
    }

    /** An offline announcement (Last Will) hides the device's samples until it reports again. */
    public void presence(String deviceId, boolean online, Instant at) {
        series.computeIfAbsent(deviceId, id -> new Series()).presence(online, at.toEpochMilli());
    }

    /** The mean of the device's samples in {@code (now - window, now]}, or empty when it has none or is offline. */
    public Optional<DeviceKpis> mean(String deviceId, Instant now, Duration window) {
        Series s = series.get(deviceId);
        return s == null ? Optional.empty() : s.mean(now.toEpochMilli() - window.toMillis(), now.toEpochMilli());
    }

    public int devices() {
        return series.size();
    }

    private static final class Series {
        private final long[] at = new long[CAPACITY];
        private final double[][] v = new double[4][CAPACITY];
        private int next;
        private int size;
        private long offlineSince = Long.MIN_VALUE;

        synchronized void add(long t, DeviceKpis k) {
            at[next] = t;
            v[0][next] = k.availability();
            v[1][next] = k.lagMedianMs();
            v[2][next] = k.lagP95Ms();
            v[3][next] = k.droppedRatio();
            next = (next + 1) % CAPACITY;
            size = Math.min(size + 1, CAPACITY);
            if (t >= offlineSince) offlineSince = Long.MIN_VALUE;
        }

        synchronized void presence(boolean online, long t) {
            offlineSince = online ? Long.MIN_VALUE : t;
        }

        synchronized Optional<DeviceKpis> mean(long fromExclusive, long to) {
            if (offlineSince != Long.MIN_VALUE && offlineSince <= to) return Optional.empty();
            double[] sum = new double[4];
            int n = 0;
            for (int i = 0; i < size; i++) {
                if (at[i] > fromExclusive && at[i] <= to) {
                    for (int k = 0; k < 4; k++) sum[k] += v[k][i];
                    n++;
                }
            }
            if (n == 0) return Optional.empty();
            return Optional.of(new DeviceKpis(sum[0] / n, sum[1] / n, sum[2] / n, sum[3] / n));
        }
    }
}
