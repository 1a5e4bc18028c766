package rsuota.lab.device;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.cli.RsuAgent;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.daemon.AgentDaemon;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.BootState;
import rsuota.hal.boot.Slot;
import rsuota.hal.boot.sim.SimulatedBootControl;
import rsuota.hal.power.SimulatedReboot;
import rsuota.hal.storage.FileSlotStorage;
import rsuota.lab.net.DeviceNetwork;
import rsuota.lab.scenario.FaultProfile;
import rsuota.lab.scenario.Scenario;
import rsuota.lab.scenario.Units;
import rsuota.wire.MqttState;

/**
 * One simulated roadside unit: a directory made by {@code rsu-agent sim-init}, the real agent
 * daemon over it, the simulated bootloader deciding what boots, the simulated application writing
 * KPIs, and its own network paths. Power is modelled: on (bootloader, application, agent), a
 * reboot the agent asks for, a power cut at any instant (the agent abandoned mid-step, as
 * {@code kill -9} would leave it), off.
 *
 * <p>Power changes run one at a time on the device's own thread, so a power cut during a reboot
 * waits for the reboot's agent to be up, and two agents never run over one directory.
 */
public final class SimulatedDevice implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SimulatedDevice.class);
    /** The old agent flushes its outbox for up to 5 s before it stops for a reboot; past this it is stuck. */
    static final Duration STOP_PATIENCE = Duration.ofSeconds(15);
    /** Hung boots before the simulated bootloader has certainly run out of tries on both slots (2 x 9) and reset them. */
    static final int MAX_BOOT_ATTEMPTS = 19;

    /** What a device tells the lab's timeline. */
    @FunctionalInterface
    public interface Listener {
        void event(String deviceId, String kind, String text);
    }

    /** What the lab reads of a device at any moment. */
    public record Status(String id, String variant, String corridor, boolean powered, boolean agentUp, String state, String running, String target, String errorCode,
                         String errorMessage, MqttState.Kpis kpis, long bytesFetched, Instant bootedAt, int boots, int hangs, int powerCuts) {}

    private final Scenario.DeviceSpec spec;
    private final Path dir;
    private final Scenario.AgentSettings settings;
    private final DeviceNetwork network;
    private final RoadsideApp app;
    private final Listener listener;
    private final Clock clock;
    private final ExecutorService power;
    private final ExecutorService waits;
    private final AtomicInteger boots = new AtomicInteger();
    private final AtomicInteger hangs = new AtomicInteger();
    private final AtomicInteger powerCuts = new AtomicInteger();
    private volatile AgentDaemon daemon;
    private volatile boolean powered;
    private volatile boolean closing;
    private volatile Instant bootedAt;
    private volatile MqttState lastSnapshot;
    /** Armed by {@link #powerCutInHandover}: how long the power stays off when the next reboot handover is cut. */
    private volatile Duration handoverCut;

    private SimulatedDevice(Scenario.DeviceSpec spec, Path dir, Scenario.AgentSettings settings, DeviceNetwork network, Listener listener,
                            Clock clock, ExecutorService waits) {
        this.spec = spec;
        this.dir = dir;
        this.settings = settings;
        this.network = network;
        this.listener = listener;
        this.clock = clock;
        this.waits = waits;
        this.app = new RoadsideApp(dir, spec.id(), spec.variant());
        this.power = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "lab-power-" + spec.id());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Makes the device directory with {@code rsu-agent sim-init --running-image} (slot A holds the
     * factory release's image, so format 2 installs reuse its chunks as on a real unit), and completes agent.conf with the lab's links
     * and compressed timings. The device stays off until {@link #powerOn()}.
     *
     * @param factoryImage the factory release's rootfs image (what slot A holds)
     * @param waits        a shared pool for bounded waits on stopping agents
     */
    public static SimulatedDevice create(Path root, Scenario.DeviceSpec spec, Path keyring, String factoryVersion, Path factoryImage,
                                         Scenario.AgentSettings a, DeviceNetwork network, Listener listener, Clock clock,
                                         ExecutorService waits) throws IOException {
        Path dir = root.resolve(spec.id());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = RsuAgent.run(new String[] {"sim-init", dir.toString(), "--variant", spec.variant(), "--slot-size", Long.toString(a.slotSize()),
                "--keyring", keyring.toString(), "--region", spec.region(), "--corridor", spec.corridor(), "--device-id", spec.id(),
                "--release", factoryVersion, "--running-image", factoryImage.toString()}, new PrintWriter(out), new PrintWriter(err));
        if (rc != 0) throw new IOException("rsu-agent sim-init for " + spec.id() + " failed (" + rc + "): " + err.toString().trim());
        String conf = String.join("\n", "",
                "# Added by the lab (rsuota.lab.device.SimulatedDevice): links through this device's own fault proxies, compressed timings.",
                "link.broker=" + network.brokerUri(),
                "link.heartbeat=" + Units.config(a.heartbeat()),
                "boot.tries=" + a.bootTries(),
                "download.retry.base=" + Units.config(a.retryBase()),
                "download.retry.max=" + Units.config(a.retryMax()),
                "download.retry.maxFailures=1000",
                "download.stallTimeout=" + Units.config(a.stallTimeout()),
                "rollback.budget=" + Units.config(a.rollbackBudget()),
                "health.probe.1=kpi",
                "health.kpi.source=json:" + RoadsideApp.KPI_FILE,
                "health.kpi.availability=kpis.availability",
                "health.kpi.lagMedianMs=kpis.lagMedianMs",
                "health.kpi.lagP95Ms=kpis.lagP95Ms",
                "health.kpi.droppedRatio=kpis.droppedRatio",
                "health.interval=" + Units.config(a.healthInterval()),
                "health.requiredPassing=" + Units.config(a.requiredPassing()),
                "health.commitWindow=" + Units.config(a.commitWindow()),
                "");
        Files.writeString(dir.resolve("agent.conf"), conf, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        return new SimulatedDevice(spec, dir, a, network, listener, clock, waits);
    }

    public String id() {
        return spec.id();
    }

    public Scenario.DeviceSpec spec() {
        return spec;
    }

    public Path dir() {
        return dir;
    }

    public DeviceNetwork network() {
        return network;
    }

    public RoadsideApp app() {
        return app;
    }

    /** Power on: bootloader, application, agent. Returns at once; the boot runs on the device's thread. */
    public void powerOn() {
        power.execute(() -> {
            if (powered || closing) return;
            powered = true;
            listener.event(id(), "power", "power on");
            bootAndStart();
        });
    }

    /** A clean shutdown (the agent is closed), staying off until {@link #powerOn()}. */
    public void powerOff() {
        power.execute(() -> {
            if (!powered) return;
            stopAgent(Stop.SHUTDOWN);
            powered = false;
            listener.event(id(), "power", "powered off");
        });
    }

    /**
     * Power lost at this instant: the agent is abandoned wherever it is (no outbox flush, no clean
     * disconnect), its connections drop; after {@code off} the box boots again.
     */
    public void powerCut(Duration off) {
        power.execute(() -> {
            if (!powered) return;
            AgentDaemon d = daemon;
            String where = d == null ? "booting" : d.engine().state().state().reported();
            powerCuts.incrementAndGet();
            stopAgent(Stop.CUT);
            network.dropConnections();
            powered = false;
            listener.event(id(), "power-cut", "power cut while " + where + "; off for " + Units.human(off));
            sleep(off);
            if (closing) return;
            powered = true;
            listener.event(id(), "power", "power restored");
            bootAndStart();
        });
    }

    /**
     * Arms a power cut for the next reboot handover: when the agent next asks for a reboot (the
     * trial boot is set, or the failed slot marked bad), the power goes at that instant instead of
     * a clean restart, before the bootloader has chosen a slot; it comes back after {@code off}.
     */
    public void powerCutInHandover(Duration off) {
        handoverCut = off;
        listener.event(id(), "power-cut", "power cut armed for the next reboot handover");
    }

    /** The agent asked for a reboot: its loop ends after this returns, then the box restarts on the device's thread. */
    private void onReboot(AgentDaemon requester, String reason) {
        listener.event(id(), "reboot", "reboot: " + reason);
        Duration cut = handoverCut;
        handoverCut = null;
        if (cut != null) {
            power.execute(() -> {
                if (daemon != requester || !powered) return; // a power cut got there first
                powerCuts.incrementAndGet();
                stopAgent(Stop.CUT);
                network.dropConnections();
                powered = false;
                listener.event(id(), "power-cut", "power cut in the reboot handover (" + reason + "), before the bootloader ran; off for "
                        + Units.human(cut));
                sleep(cut);
                if (closing) return;
                powered = true;
                listener.event(id(), "power", "power restored");
                bootAndStart();
            });
            return;
        }
        power.execute(() -> {
            if (daemon != requester || !powered) return; // a power cut got there first
            stopAgent(Stop.REBOOT);
            bootAndStart();
        });
    }

    /** How an agent stops: its own reboot (the loop ends by itself), a shutdown, or a power cut. */
    private enum Stop { REBOOT, SHUTDOWN, CUT }

    private void stopAgent(Stop how) {
        app.stop();
        AgentDaemon d = daemon;
        daemon = null;
        if (d == null) return;
        try {
            lastSnapshot = d.snapshot();
        } catch (RuntimeException e) {
            log.debug("{}: last snapshot unavailable: {}", id(), e.toString());
        }
        if (how == Stop.SHUTDOWN) {
            // close() interrupts the loop and joins it (bounded inside the daemon), then stops the link.
            d.close();
            return;
        }
        if (how == Stop.CUT) d.kill();
        // Bounded: awaitStop() has no timeout of its own, so it waits on another thread.
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> {
            try {
                d.awaitStop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, waits);
        try {
            stopped.get(STOP_PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.error("{}: agent loop did not stop within {}; starting the next one anyway", id(), STOP_PATIENCE);
        } catch (ExecutionException e) {
            log.error("{}: waiting for the agent to stop: {}", id(), e.getCause().toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (how == Stop.REBOOT) d.close();
    }

    /** The simulated U-Boot script, then the application, then a new agent over the same directory. */
    private void bootAndStart() {
        try {
            SimulatedBootControl boot = SimulatedBootControl.open(dir.resolve("boot"));
            Slot booted = null;
            for (int attempt = 0; attempt < MAX_BOOT_ATTEMPTS && booted == null; attempt++) {
                BootState st = boot.state();
                Slot next = st.nextBoot();
                FaultProfile p = next == null ? FaultProfile.NOMINAL : FaultProfile.ofSlot(slotFile(next));
                if (next != null && p.bootHang() && p.appliesTo(spec.variant())) {
                    boot.simulateHang();
                    hangs.incrementAndGet();
                    listener.event(id(), "boot-hang", "slot " + next + " hung at boot; watchdog reset after " + Units.human(settings.hangTime()));
                    sleep(settings.hangTime());
                    if (closing) return;
                    continue;
                }
                booted = boot.simulateBoot();
            }
            if (booted == null) throw new BootControlException("no slot booted in " + MAX_BOOT_ATTEMPTS + " attempts");
            boots.incrementAndGet();
            sleep(settings.bootTime());
            if (closing) return;
            Instant now = clock.instant();
            bootedAt = now;
            app.start(FaultProfile.ofSlot(slotFile(booted)), now);
            listener.event(id(), "boot", "booted slot " + booted);
            startAgent();
        } catch (IOException | BootControlException | AgentConfig.ConfigException e) {
            log.error("{}: boot failed: {}", id(), e.toString(), e);
            listener.event(id(), "error", "boot failed: " + e.getMessage());
        }
    }

    private void startAgent() throws IOException, AgentConfig.ConfigException, BootControlException {
        AgentDaemon[] self = new AgentDaemon[1];
        AgentDaemon d = new AgentDaemon(AgentConfig.load(dir.resolve("agent.conf")),
                new AgentDaemon.Options(clock, new SimulatedReboot(reason -> onReboot(self[0], reason)), null, Duration.ofMillis(100)));
        self[0] = d;
        daemon = d;
        d.start();
    }

    private Path slotFile(Slot s) {
        return dir.resolve(s == Slot.A ? FileSlotStorage.SIMULATED_A : FileSlotStorage.SIMULATED_B);
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What the device reports now (the agent's own snapshot while it runs, the last one otherwise). */
    public Status status() {
        AgentDaemon d = daemon;
        MqttState s = lastSnapshot;
        if (d != null) {
            try {
                s = d.snapshot();
                lastSnapshot = s;
            } catch (RuntimeException e) {
                log.debug("{}: snapshot unavailable: {}", id(), e.toString());
            }
        }
        String state = s == null ? null : s.deployment().state();
        String running = s == null ? null : s.versions().get("baseImage");
        String target = s == null ? null : s.deployment().release();
        String code = s == null || s.lastError() == null ? null : s.lastError().code();
        String msg = s == null || s.lastError() == null ? null : s.lastError().message();
        long fetched = s == null ? 0 : s.deployment().bytesFetched();
        return new Status(id(), spec.variant(), spec.corridor(), powered, d != null, state, running, target, code, msg, app.running() ? app.last() : null, fetched, bootedAt,
                boots.get(), hangs.get(), powerCuts.get());
    }

    /** The slots as the agent last reported them. */
    public List<MqttState.Slot> slots() {
        MqttState s = lastSnapshot;
        return s == null ? List.of() : s.slots();
    }

    @Override
    public void close() {
        closing = true;
        CompletableFuture<Void> done = CompletableFuture.runAsync(() -> {
            stopAgent(Stop.SHUTDOWN);
            powered = false;
        }, power);
        try {
            done.get(STOP_PATIENCE.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("{}: not stopped cleanly: {}", id(), e.toString());
        }
        power.shutdownNow();
        try {
            network.close();
        } catch (IOException e) {
            log.debug("{}: closing its network: {}", id(), e.toString());
        }
    }
}
