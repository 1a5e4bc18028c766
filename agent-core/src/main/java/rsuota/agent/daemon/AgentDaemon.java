package rsuota.agent.daemon;

import rsuota.wire.SlotState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import rsuota.agent.activation.TechnicianLock;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.config.Assembly;
import rsuota.agent.diag.DiagnosticsCollector;
import rsuota.agent.diag.DiagnosticsCommand;
import rsuota.agent.diag.DiagnosticsConfig;
import rsuota.agent.diag.DiagnosticsUploader;
import rsuota.agent.download.Sleeper;
import rsuota.agent.health.KpiSource;
import rsuota.agent.link.CommandDispatcher;
import rsuota.agent.link.CommandRouter;
import rsuota.agent.link.DesiredStateReconciler;
import rsuota.agent.link.LinkConfig;
import rsuota.agent.link.MqttLink;
import rsuota.agent.link.PahoMqttLink;
import rsuota.agent.link.TlsFiles;
import rsuota.agent.report.Outbox;
import rsuota.agent.report.OutboxConfig;
import rsuota.agent.report.Reporter;
import rsuota.agent.update.CrashHook;
import rsuota.agent.update.EngineState;
import rsuota.agent.update.StatusView;
import rsuota.agent.update.UpdateEngine;
import rsuota.agent.update.UpdateState;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.Slot;
import rsuota.hal.gpio.Gpio;
import rsuota.hal.power.Reboot;
import rsuota.hal.watchdog.LoopWatchdog;
import rsuota.hal.watchdog.DevWatchdog;
import rsuota.hal.watchdog.Watchdog;
import rsuota.hal.gpio.StatusLed;
import rsuota.hal.watchdog.SystemdNotifier;
import rsuota.wire.Action;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.MqttState;

/**
 * The rsu-agent daemon: one loop thread drives the update engine; the MQTT link feeds it desired
 * states and commands and carries its events (through the on-disk outbox) and state snapshots.
 * systemd gets READY=1 once started and WATCHDOG=1 only while the loop makes progress.
 *
 * <p>When the engine asks for a reboot, the daemon flushes the outbox briefly and stops: on a box
 * the reboot ends the process anyway; in the lab the simulated reboot starts a new daemon.
 */
public final class AgentDaemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentDaemon.class);
    public static final String AGENT_VERSION = "0.1.0";
    /** How often the loop drives the engine when nothing else wakes it (windows, inhibitors). */
    static final Duration TICK = Duration.ofSeconds(1);

    /** What the lab or a test overrides; nulls mean the configured defaults. */
    public record Options(Clock clock, Reboot reboot, Gpio gpio, Duration tick) {
        public static Options defaults() {
            return new Options(Clock.systemUTC(), null, null, TICK);
        }
    }

    private final AgentConfig config;
    private final Options options;
    private final Clock clock;
    private final Outbox outbox;
    private final MqttLink link;
    private final UpdateEngine engine;
    private final Reporter reporter;
    private final CommandDispatcher dispatcher;
    private final SystemdNotifier notifier;
    private final LoopWatchdog loopWatchdog;
    private final ScheduledExecutorService scheduler;
    private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private final KpiSource kpis;
    private final Gpio gpio;
    private final StatusLed led;
    private final DevWatchdog hardwareWatchdog;
    private volatile boolean running;
    private volatile Thread loop;
    /** Control requests waiting for the loop to settle after their order; completed after the next engine run. */
    private final java.util.Queue<CompletableFuture<EngineState>> settleWaiters = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile rsuota.agent.control.ControlServer control;

    /** An order to the engine, run on the loop thread between two runs. */
    interface EngineAction {
        void run() throws IOException, AgentException;
    }

    public AgentDaemon(AgentConfig config, Options options) throws IOException, AgentConfig.ConfigException, BootControlException {
        this.config = config;
        this.options = options;
        this.clock = options.clock();
        this.outbox = Outbox.open(OutboxConfig.in(config.stateDir().resolve("outbox")), config.device().id(), clock);
        AgentConfig.Link lk = config.link();
        if (lk.broker() != null) {
            LinkConfig lc = LinkConfig.device(lk.broker(), config.device().id());
            if (lk.tlsCa() != null) {
                TlsFiles tls = new TlsFiles(lk.tlsCa(), lk.tlsCert(), lk.tlsKey());
                String problem = tls.identityProblem(config.device().id());
                if (problem != null) throw new AgentConfig.ConfigException(problem);
                lc = lc.withTls(tls);
            }
            this.link = new PahoMqttLink(lc, clock);
        } else {
            this.link = null;
            log.warn("no link.broker in {}: running without a controller link (events stay in the outbox)", config.file());
        }
        MqttLink l = link;
        this.gpio = options.gpio() != null ? options.gpio() : StatusLights.gpioFor(config);
        UpdateEngine.Parts parts = Assembly.parts(config, outbox, clock, Sleeper.REAL, CrashHook.NONE, options.reboot(), gpio,
                () -> l != null && l.isConnected());
        this.engine = new UpdateEngine(config.stateDir(), parts);
        this.kpis = parts.health().kpiSource();
        Duration hb = config.link().heartbeat();
        this.reporter = link == null ? null : Reporter.forOutbox(link, outbox, config.device().id(), this::snapshot, clock, hb);
        this.dispatcher = link == null ? null : new CommandDispatcher(config.device().id(), config.stateDir(), outbox,
                new CommandRouter().route(DiagnosticsCommand.TYPE, new DiagnosticsCommand(
                        new DiagnosticsCollector(DiagnosticsConfig.of(config.stateDir().resolve("logs"), config.stateDir(), config.file(),
                                List.of("rsu-agent.service", config.app().unit())), clock),
                        new DiagnosticsUploader(DiagnosticsUploader::defaultClient, DiagnosticsUploader.Options.DEFAULT),
                        config.stateDir().resolve("diag-work"))), clock);
        this.notifier = SystemdNotifier.fromEnvironment();
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rsu-watchdog-" + config.device().id());
            t.setDaemon(true);
            return t;
        });
        Duration kick = SystemdNotifier.watchdogInterval(System.getenv()).orElse(Duration.ofSeconds(10));
        // Boxes whose agent owns the hardware watchdog kick /dev/watchdog on the same condition as systemd's.
        this.hardwareWatchdog = config.watchdogDevice() == null ? null : DevWatchdog.open(config.watchdogDevice());
        Watchdog target = hardwareWatchdog == null ? notifier : new Watchdog() {
            @Override
            public void kick() throws IOException {
                hardwareWatchdog.kick();
                notifier.kick();
            }

            @Override
            public void stalled(String why) throws IOException {
                notifier.stalled(why);
            }

            @Override
            public String describe() {
                return notifier.describe() + " + " + hardwareWatchdog.describe();
            }
        };
        this.loopWatchdog = new LoopWatchdog(target, kick, kick.multipliedBy(4), scheduler);
        engine.setProgressListener(p -> loopWatchdog.beat());
        this.led = StatusLights.statusLed(config, gpio);
        if (led != null) led.runOn(scheduler);
    }

    public UpdateEngine engine() {
        return engine;
    }

    public Outbox outbox() {
        return outbox;
    }

    public MqttLink link() {
        return link;
    }

    /** Starts the link and the loop thread; returns at once. */
    public synchronized void start() throws IOException {
        running = true;
        if (link != null) {
            new DesiredStateReconciler(config.device().id(), config.stateDir(), this::onDesired).attach(link);
            dispatcher.attach(link);
            link.start();
            outbox.startPublishing(link);
            reporter.start();
        }
        if (Files.exists(heldFile()) && new TechnicianLock(config.stateDir()).locallyManaged().isEmpty()
                && new TechnicianLock(config.stateDir()).holdReason().isEmpty()) {
            releaseHeld(); // unlocked while the daemon was stopped
        }
        loop = new Thread(this::loop, "rsu-agent-" + config.device().id());
        loop.start();
        try {
            control = rsuota.agent.control.ControlServer.start(config.control().socket(),
                    new rsuota.agent.control.ControlAccess(config.control().group()), config.device().id(),
                    new DaemonControl(this, config, outbox, clock));
        } catch (AgentException e) {
            // Updates matter more than the technician's socket: run on, and say so where the technician looks.
            log.error("no control socket: {}; rsu-agent commands on this unit will find the state directory locked", e.detail());
        }
        loopWatchdog.start();
        try {
            notifier.ready();
            notifier.status("running " + engine.state().state().reported());
        } catch (IOException e) {
            log.warn("sd_notify READY failed: {}", e.toString());
        }
    }

    /** Blocks until the daemon stops (reboot requested, or {@link #close}). */
    public void awaitStop() throws InterruptedException {
        Thread t = loop;
        if (t != null) t.join();
    }

    private void loop() {
        try {
            while (running) {
                loopWatchdog.beat();
                List<CompletableFuture<EngineState>> due = new ArrayList<>();
                for (CompletableFuture<EngineState> w = settleWaiters.poll(); w != null; w = settleWaiters.poll()) due.add(w);
                EngineState s = engine.run();
                for (CompletableFuture<EngineState> w : due) w.complete(s);
                if (led != null) led.show(StatusLights.ledStatus(s.state()));
                publishIfChanged(s);
                if (engine.rebootRequested()) {
                    log.info("reboot requested in state {}; flushing events", s.state());
                    outbox.awaitAcked(outbox.lastSeq(), Duration.ofSeconds(5));
                    running = false;
                    break;
                }
                Duration wait = s.state() == UpdateState.COMMITTING || s.state() == UpdateState.ROLLING_BACK
                        ? engine.parts().health().checkInterval() : options.tick();
                Runnable task = tasks.poll(Math.max(10, wait.toMillis()), TimeUnit.MILLISECONDS);
                while (task != null) {
                    task.run();
                    task = tasks.poll();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // a bug: stop beating so systemd restarts the agent; the state on disk is consistent
            log.error("agent loop failed", e);
        } finally {
            // whoever still waits gets where the engine stands (a reboot: "rebooting")
            for (CompletableFuture<EngineState> w = settleWaiters.poll(); w != null; w = settleWaiters.poll()) w.complete(engine.state());
        }
    }

    /** Completes with the engine's state once the loop has run it to rest after now (a wake-up is queued). */
    CompletableFuture<EngineState> nextSettle() {
        CompletableFuture<EngineState> f = new CompletableFuture<>();
        settleWaiters.add(f);
        tasks.add(() -> { });
        if (!running) f.complete(engine.state());
        return f;
    }

    /**
     * Runs {@code action} on the loop thread; the future completes with the state once the loop has
     * run the engine to rest after it, or exceptionally with the action's AgentException.
     */
    CompletableFuture<EngineState> actThenSettle(EngineAction action) {
        CompletableFuture<EngineState> f = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                action.run();
                settleWaiters.add(f);
            } catch (AgentException e) {
                f.completeExceptionally(e);
            } catch (IOException e) {
                f.completeExceptionally(AgentException.io(null, e));
            }
        });
        if (!running) f.complete(engine.state());
        return f;
    }

    private String lastPublished;
    private long lastProgressPublish;

    /**
     * The retained state goes out at each heartbeat (the reporter's timer) and when something a
     * viewer cares about changed: the state, what activation waits for, or download progress
     * (at most every 5 s). Not on every loop tick.
     */
    private void publishIfChanged(EngineState s) {
        if (reporter == null) return;
        String key = s.state() + "|" + engine.waitingFor() + "|" + (s.lastError() == null ? "" : s.lastError().code());
        long now = System.nanoTime();
        boolean progress = s.state() == UpdateState.DOWNLOADING && now - lastProgressPublish > TimeUnit.SECONDS.toNanos(5);
        if (!key.equals(lastPublished) || progress) {
            lastPublished = key;
            if (progress) lastProgressPublish = now;
            reporter.requestPublish();
        }
    }

    /** Maps the controller's desired state onto engine orders; runs on the loop thread (or immediately for a new order). */
    void onDesired(MqttDesiredState d) {
        log.info("desired rev {}: {} {}", d.rev(), d.action(), d.release());
        if (heldByTechnician(d)) return;
        EngineState s = engine.state();
        // The bundle being worked on: the verified header's, or (before the header is in) the order's.
        String current = s.target() != null ? s.target().manifestDigest() : s.order() != null ? s.order().manifestDigest() : null;
        boolean sameBundle = d.manifestDigest() != null && d.manifestDigest().equals(current);
        switch (d.action()) {
            case DOWNLOAD, ACTIVATE -> {
                boolean activate = d.action() == Action.ACTIVATE;
                if (sameBundle && s.state() != UpdateState.FAILED && s.state() != UpdateState.IDLE
                        && s.state() != UpdateState.ROLLED_BACK && s.state() != UpdateState.NEEDS_INVESTIGATION) {
                    // Paused, resumed or re-sent: the same bundle under a newer rev. Adopt it; never start the download again.
                    try {
                        log.info("desired rev {}: {}", d.rev(), engine.adopt(new EngineState.Order(d.bundleUrl(), d.release(), d.manifestDigest(),
                                d.rev(), !activate, d.rolloutId(), d.window(), d.activateAfter(), d.bandwidthCap())));
                    } catch (IOException | AgentException e) {
                        log.error("desired rev {} not adopted: {}", d.rev(), e.toString());
                    }
                    return;
                }
                if (runningRelease(s, d.manifestDigest())) return;
                try {
                    engine.order(new EngineState.Order(d.bundleUrl(), d.release(), d.manifestDigest(), d.rev(), !activate, d.rolloutId(),
                            d.window(), d.activateAfter(), d.bandwidthCap()));
                } catch (IOException | AgentException e) {
                    log.warn("order of rev {} refused: {}", d.rev(), e.getMessage());
                }
            }
            case ROLLBACK -> tasks.add(() -> {
                EngineState now = engine.state();
                boolean notActivated = now.state() == UpdateState.VERIFIED || now.state() == UpdateState.AWAITING_WINDOW;
                if (!notActivated && (runningRelease(now, d.manifestDigest()) || releaseRunning(now, d.release()))) return;
                try {
                    engine.rollback("controller rollback, rev " + d.rev());
                } catch (AgentException e) {
                    if (e.code() == AgentError.NO_PREVIOUS_SLOT && d.bundleUrl() != null) {
                        try {
                            engine.order(new EngineState.Order(d.bundleUrl(), d.release(), d.manifestDigest(), d.rev(), false, d.rolloutId(),
                                    null, null, d.bandwidthCap()));
                        } catch (IOException | AgentException e2) {
                            log.warn("reinstall for rollback rev {} refused: {}", d.rev(), e2.getMessage());
                        }
                    } else {
                        log.info("rollback rev {}: {}", d.rev(), e.detail());
                    }
                } catch (IOException e) {
                    log.error("rollback rev {} not persisted: {}", d.rev(), e.toString());
                }
            });
        }
    }

    /** Where a desired state a technician's hold kept back waits (its wire form), applied at unlock. */
    private Path heldFile() {
        return config.stateDir().resolve(HELD_FILE);
    }

    static final String HELD_FILE = "desired.held.json";

    /**
     * The technician's word over the controller's (docs/operations.md, "A technician on the unit"):
     * while a local install made the unit locally managed, no controller order changes it; while a
     * technician lock holds, no controller rollback runs (activations wait as the lock is an
     * inhibitor). A held order is kept on disk and reported as an alert, never dropped silently;
     * {@link #releaseHeld} applies it once the technician unlocks.
     */
    private boolean heldByTechnician(MqttDesiredState d) {
        TechnicianLock tl = new TechnicianLock(config.stateDir());
        String code;
        Map<String, String> detail = new LinkedHashMap<>();
        detail.put("rev", Long.toString(d.rev()));
        detail.put("action", d.action().name().toLowerCase(java.util.Locale.ROOT));
        var managed = tl.locallyManaged();
        if (managed.isPresent()) {
            code = "LOCALLY_MANAGED";
            detail.put("by", "technician:" + managed.get().by());
            detail.put("since", String.valueOf(managed.get().at()));
            detail.put("message", "a technician installed " + managed.get().source() + " on this unit; the controller's order waits for 'rsu-agent unlock'");
        } else if (d.action() == Action.ROLLBACK && tl.holdReason().isPresent()) {
            code = "TECHNICIAN_LOCKED";
            detail.put("message", tl.holdReason().get() + "; the controller's rollback waits for 'rsu-agent unlock'");
            try {
                tl.current().ifPresent(l -> {
                    detail.put("by", "technician:" + l.by());
                    detail.put("since", String.valueOf(l.at()));
                });
            } catch (IOException e) {
                detail.put("by", "unknown");
            }
        } else {
            return false;
        }
        try {
            rsuota.hal.storage.DurableFiles.writeAtomically(heldFile(), rsuota.wire.WireCodec.encode(d));
        } catch (IOException e) {
            log.error("held desired rev {} not kept on disk: {}", d.rev(), e.toString());
        }
        log.warn("desired rev {} held: {}: {}", d.rev(), code, detail.get("message"));
        try {
            outbox.emit(new rsuota.agent.report.EventSink.Draft("alert", null, d.release(), code, detail));
        } catch (IOException e) {
            log.error("alert {} not recorded: {}", code, e.toString());
        }
        return true;
    }

    /** Applies the desired state a technician's hold kept back, once nothing holds it (unlock, or a start after an offline unlock). */
    void releaseHeld() {
        Path f = heldFile();
        if (!Files.exists(f)) return;
        MqttDesiredState d;
        try {
            d = rsuota.wire.WireCodec.decode(Files.readAllBytes(f), MqttDesiredState.class);
        } catch (IOException | rsuota.wire.WireException e) {
            log.error("held desired state {} unreadable, dropped: {}", f, e.toString());
            deleteQuietly(f);
            return;
        }
        if (heldByTechnician(d)) return; // still held (locked again meanwhile): kept
        deleteQuietly(f);
        log.info("desired rev {} released by the technician's unlock", d.rev());
        tasks.add(() -> onDesired(d));
    }

    private static void deleteQuietly(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", f, e.toString());
        }
    }

    private boolean runningRelease(EngineState s, String digest) {
        return digest != null && runningGood(s, r -> digest.equals(r.manifestDigest()));
    }

    private boolean releaseRunning(EngineState s, String release) {
        return release != null && runningGood(s, r -> release.equals(r.release()));
    }

    /** Whether the booted slot is committed good and its record matches {@code which}. */
    private boolean runningGood(EngineState s, java.util.function.Predicate<EngineState.SlotRecord> which) {
        try {
            EngineState.SlotRecord r = s.slot(engine.parts().boot().booted().name());
            return which.test(r) && SlotState.GOOD.is(r.status());
        } catch (BootControlException e) {
            return false;
        }
    }

    /** The retained state snapshot. */
    @SuppressWarnings("unchecked")
    public MqttState snapshot() {
        EngineState s = engine.state();
        Map<String, Object> status = StatusView.of(s, engine.progress(), engine.parts().boot());
        List<MqttState.Slot> slots = new ArrayList<>();
        String running = null;
        for (Map<String, Object> m : (List<Map<String, Object>>) status.get("slots")) {
            boolean booted = Boolean.TRUE.equals(m.get("booted"));
            slots.add(new MqttState.Slot((String) m.get("name"), (String) m.get("state"), (String) m.get("release"), booted));
            if (booted) running = (String) m.get("release");
        }
        // A version nobody knows is left out (the wire map holds no nulls): a box booted into a slot the agent
        // never wrote (re-flashed by hand) reports no baseImage rather than no state at all.
        Map<String, String> versions = new LinkedHashMap<>();
        if (running != null) versions.put("baseImage", running);
        String app = config.app().version() != null ? config.app().version() : running;
        if (app != null) versions.put("app", app);
        versions.put("agent", AGENT_VERSION);
        Map<String, Object> dl = (Map<String, Object>) status.get("download");
        EngineState.Target t = s.target();
        MqttState.Deployment dep = new MqttState.Deployment(s.state().reported(), t != null ? t.release() : s.order() != null ? s.order().release() : null,
                s.order() != null ? s.order().rev() : 0, ((Number) dl.get("bytesFetched")).longValue(), t != null ? t.payloadBytes() : 0,
                engine.waitingFor());
        MqttState.Error err = s.lastError() == null ? null : new MqttState.Error(s.lastError().code(), s.lastError().message(), s.lastError().at());
        MqttState.Kpis k = null;
        if (kpis != null) {
            try {
                k = kpis.read();
            } catch (Exception e) {
                // KPI source down: report none rather than stale numbers
                log.debug("KPIs unavailable: {}", e.toString());
            }
        }
        return new MqttState(MqttState.SCHEMA, config.device().id(),
                new MqttState.Identity(config.device().variant(), config.device().region(), config.device().corridor(), config.device().site(), config.device().tags()),
                versions, slots, dep, err, k, clock.instant(), outbox.lastSeq());
    }

    private void closeDevices() {
        if (led != null) led.close();
        if (hardwareWatchdog != null) {
            try {
                hardwareWatchdog.close(); // magic close: the daemon stops on purpose
            } catch (IOException e) {
                log.warn("hardware watchdog close: {}", e.toString());
            }
        }
    }

    @Override
    public void close() {
        closeDevices();
        running = false;
        Thread t = loop;
        if (t != null) {
            t.interrupt();
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // after the loop: the requests it settled get their replies before the socket goes
        if (control != null) control.close();
        loopWatchdog.close();
        scheduler.shutdownNow();
        if (reporter != null) reporter.close();
        if (dispatcher != null) dispatcher.close();
        if (link != null) link.stop();
        outbox.close();
    }

    /** Abandons everything without a clean shutdown (lab: a power cut). */
    public void kill() {
        if (control != null) control.close();
        running = false;
        Thread t = loop;
        if (t != null) t.interrupt();
        loopWatchdog.close();
        scheduler.shutdownNow();
        if (reporter != null) reporter.close();
        if (dispatcher != null) dispatcher.close();
        if (link != null) link.stop();
        outbox.close();
    }
}
