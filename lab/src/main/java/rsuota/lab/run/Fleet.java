package rsuota.lab.run;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.lab.control.LabController;
import rsuota.lab.control.Releases;
import rsuota.lab.device.SimulatedDevice;
import rsuota.lab.net.DesiredUrlRewriter;
import rsuota.lab.net.DeviceNetwork;
import rsuota.lab.scenario.Scenario;

/**
 * The simulated fleet: every device with its own directory and network paths, the MQTT hop that
 * gives each its own bundle path, and the one scheduler that ticks every device's application.
 */
final class Fleet implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Fleet.class);

    private final Map<String, SimulatedDevice> devices;
    private final DesiredUrlRewriter hop;
    private final ExecutorService waits;

    private Fleet(Map<String, SimulatedDevice> devices, DesiredUrlRewriter hop, ExecutorService waits) {
        this.devices = devices;
        this.hop = hop;
        this.waits = waits;
    }

    static Fleet create(Scenario s, Path root, Path keyring, LabController controller, Releases.Built factory, Timeline timeline,
                        ScheduledExecutorService scheduler, Clock clock) throws IOException {
        Map<String, DeviceNetwork> networks = new LinkedHashMap<>();
        String origin = controller.uri().toString();
        DesiredUrlRewriter hop = DesiredUrlRewriter.start(controller.brokerPort(), origin.endsWith("/") ? origin.substring(0, origin.length() - 1) : origin,
                id -> {
                    DeviceNetwork n = networks.get(id);
                    return n == null ? null : n.bundleOrigin();
                });
        ExecutorService waits = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "lab-wait");
            t.setDaemon(true);
            return t;
        });
        Map<String, SimulatedDevice> devices = new LinkedHashMap<>();
        Fleet fleet = new Fleet(devices, hop, waits);
        try {
            SimulatedDevice.Listener listener = (id, kind, text) -> timeline.add(kind, id, text);
            for (Scenario.DeviceSpec d : s.devices()) {
                DeviceNetwork net = DeviceNetwork.open(controller.uri().getPort(), hop.port(), scheduler);
                networks.put(d.id(), net);
                devices.put(d.id(), SimulatedDevice.create(root, d, keyring, factory.version(), factory.image(), s.agent(), net, listener, clock, waits));
            }
        } catch (IOException | RuntimeException e) {
            fleet.close();
            throw e;
        }
        long every = s.agent().appInterval().toMillis();
        scheduler.scheduleAtFixedRate(() -> {
            Instant now = clock.instant();
            for (SimulatedDevice d : devices.values()) {
                try {
                    d.app().tick(now);
                } catch (IOException e) {
                    log.warn("{}: application could not write its KPIs: {}", d.id(), e.toString());
                }
            }
        }, every, every, TimeUnit.MILLISECONDS);
        return fleet;
    }

    Map<String, SimulatedDevice> devices() {
        return devices;
    }

    SimulatedDevice device(String id) {
        return devices.get(id);
    }

    List<SimulatedDevice> select(Scenario.Targets t) {
        List<SimulatedDevice> out = new ArrayList<>();
        for (SimulatedDevice d : devices.values()) if (t.includes(d.id())) out.add(d);
        return out;
    }

    /** Desired states whose bundle URL the hop pointed at a device's own path. */
    int rewritten() {
        return hop.rewritten();
    }

    @Override
    public void close() {
        // In parallel: each device may wait a few seconds for its agent to flush and stop.
        List<Thread> closing = new ArrayList<>();
        for (SimulatedDevice d : devices.values()) {
            Thread t = new Thread(d::close, "lab-close-" + d.id());
            t.start();
            closing.add(t);
        }
        for (Thread t : closing) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        hop.close();
        waits.shutdownNow();
    }
}
