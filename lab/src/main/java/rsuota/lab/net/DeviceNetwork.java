package rsuota.lab.net;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import rsuota.fixtures.net.Close;
import rsuota.fixtures.net.FaultProxy;
import rsuota.fixtures.net.ProxyCounters;
import rsuota.lab.scenario.Step;

/**
 * One device's two network paths, each through its own {@link FaultProxy}: bundles (HTTP to the
 * controller's {@code /artifacts/}) and broker (MQTT, via the {@link DesiredUrlRewriter}). Faults
 * hit either path or both, so "partition from the broker only" keeps downloads going and
 * "partition from the bundle server only" keeps reports flowing. Timed faults end by themselves
 * on the lab's scheduler.
 */
public final class DeviceNetwork implements AutoCloseable {
    private final FaultProxy bundles;
    private final FaultProxy broker;
    private final ScheduledExecutorService scheduler;

    private DeviceNetwork(FaultProxy bundles, FaultProxy broker, ScheduledExecutorService scheduler) {
        this.bundles = bundles;
        this.broker = broker;
        this.scheduler = scheduler;
    }

    /**
     * @param controllerPort the controller's HTTP port (bundles are served at /artifacts/)
     * @param hopPort        the {@link DesiredUrlRewriter}'s port
     */
    public static DeviceNetwork open(int controllerPort, int hopPort, ScheduledExecutorService scheduler) throws IOException {
        FaultProxy b = FaultProxy.start(controllerPort);
        try {
            return new DeviceNetwork(b, FaultProxy.start(hopPort), scheduler);
        } catch (IOException e) {
            b.close();
            throw e;
        }
    }

    /** What the device's agent is configured with: {@code tcp://127.0.0.1:PORT}. */
    public String brokerUri() {
        return "tcp://127.0.0.1:" + broker.port();
    }

    /** Where the device fetches bundles: the controller's origin, rewritten in its desired states. */
    public String bundleOrigin() {
        return "http://127.0.0.1:" + bundles.port();
    }

    public ProxyCounters bundleCounters() {
        return bundles.counters();
    }

    public ProxyCounters brokerCounters() {
        return broker.counters();
    }

    public void cut(Step.Cut c) {
        if (c.every() > 0) {
            if (c.times() > 0) bundles.cutEvery(c.every(), Close.RST, c.times());
            else bundles.cutEvery(c.every(), Close.RST);
        } else if (c.at() > 0) {
            bundles.cutEvery(c.at(), Close.RST, Math.max(1, c.times()));
        } else {
            // A cut now: every open connection reset; new ones are welcome at once.
            bundles.partition();
            bundles.heal();
        }
    }

    public void stall(Duration d) {
        bundles.stallAll();
        later(d, bundles::releaseStalls);
    }

    public void throttle(long bytesPerSecond, Duration d) {
        bundles.throttleAll(bytesPerSecond);
        if (d != null) later(d, bundles::stopThrottling);
    }

    public void partition(Step.Path path, Duration d) {
        if (path.broker()) broker.partition();
        if (path.bundles()) bundles.partition();
        if (d != null) later(d, () -> heal(path));
    }

    public void heal(Step.Path path) {
        if (path.broker()) broker.heal();
        if (path.bundles()) bundles.heal();
    }

    /** Down for {@code down}, up for {@code up}, {@code times} rounds, scheduled now in one go. */
    public void flap(Step.Path path, Duration down, Duration up, int times) {
        long round = down.toMillis() + up.toMillis();
        for (int i = 0; i < times; i++) {
            long start = i * round;
            scheduler.schedule(() -> partition(path, null), start, TimeUnit.MILLISECONDS);
            scheduler.schedule(() -> heal(path), start + down.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** A power cut takes the device's links down with it; nothing of the old connections may linger. */
    public void dropConnections() {
        broker.partition();
        bundles.partition();
        broker.heal();
        bundles.heal();
    }

    private void later(Duration d, Runnable r) {
        scheduler.schedule(r, d.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws IOException {
        try {
            bundles.close();
        } finally {
            broker.close();
        }
    }
}
