package rsuota.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import rsuota.agent.AgentException;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.config.Assembly;
import rsuota.agent.download.Sleeper;
import rsuota.agent.report.EventSink;
import rsuota.agent.update.CrashHook;
import rsuota.agent.update.EngineState;
import rsuota.agent.update.Progress;
import rsuota.agent.update.StatusView;
import rsuota.agent.update.UpdateEngine;
import rsuota.agent.update.UpdateState;
import rsuota.bundle.Pem;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.Slot;
import rsuota.hal.boot.sim.SimulatedBootControl;
import rsuota.hal.storage.FileSlotStorage;

/** {@code rsu-agent}: the technician's and the lab's command line (the command contract is stable). */
@Command(name = "rsu-agent", mixinStandardHelpOptions = true, version = "rsu-agent 0.1.0",
        description = "RSU OTA device agent: install signed bundles to the inactive A/B slot, show status.",
        subcommands = {RsuAgent.SimInit.class, RsuAgent.Install.class, RsuAgent.Status.class, RsuAgent.Slots.class,
                RsuAgent.Activate.class, RsuAgent.Rollback.class, RsuAgent.Lock.class, RsuAgent.Unlock.class, RsuAgent.Health.class,
                RsuAgent.Run.class, RsuAgent.Diag.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "2:usage error", "3:install failed (REASON: message on stderr)",
                "4:configuration unusable", "5:another rsu-agent holds the state directory", "6:state or boot environment unreadable",
                "1:internal error"})
public final class RsuAgent implements Callable<Integer> {
    static final int FAILED = 3;
    static final int CONFIG = 4;
    static final int LOCKED = 5;
    static final int STATE = 6;

    @Option(names = "--config", description = "agent configuration file (agent.conf)", scope = CommandLine.ScopeType.INHERIT)
    Path config;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static Clock clock = Clock.systemUTC();

    /** A failure with its exit code and one-line reason. */
    static final class Failure extends Exception {
        final int code;

        Failure(int code, String message) {
            super(message);
            this.code = code;
        }
    }

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static void main(String[] args) {
        rsuota.agent.logging.Logging.configure();
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new RsuAgent());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof Failure f) {
                err.println(f.getMessage());
                return f.code;
            }
            // The one place engine failures become exit codes: the reason code first, on one line.
            if (e instanceof AgentException ae) {
                err.println(ae.getMessage());
                return ae.code().exit().code();
            }
            if (e instanceof IOException io) {
                err.println("STATE: " + io.getMessage());
                return STATE;
            }
            err.println("rsu-agent: internal error: " + e);
            e.printStackTrace(err);
            return 1;
        });
        return cl.execute(args);
    }

    AgentConfig loadConfig() throws Failure {
        if (config == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--config CONF is required for this command");
        }
        try {
            return AgentConfig.load(config);
        } catch (AgentConfig.ConfigException e) {
            throw new Failure(CONFIG, "CONFIG: " + e.getMessage());
        } catch (IOException e) {
            throw new Failure(CONFIG, "CONFIG: cannot read " + config + ": " + e);
        }
    }

    static final ObjectMapper JSON = new ObjectMapper().enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);

    // ---------------------------------------------------------------------------------------------

    @Command(name = "sim-init", mixinStandardHelpOptions = true,
            description = "Create a simulated RSU in DIR: config, two slot files, simulated bootloader; prints DIR/agent.conf.")
    static final class SimInit implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "DIR") Path dir;
        @Option(names = "--variant", required = true, description = "device variant, e.g. rsu-a1") String variant;
        @Option(names = "--slot-size", required = true, description = "size of each slot, e.g. 64MiB") String slotSize;
        @Option(names = "--keyring", required = true, description = "trust anchors (PEM) the device verifies bundles with") Path keyring;
        @Option(names = "--release", defaultValue = "1.0.0", description = "release the simulated box runs (default ${DEFAULT-VALUE})") String release;
        @Option(names = "--device-id", description = "device id (default: the directory name)") String deviceId;
        @Option(names = "--region", defaultValue = "") String region;
        @Option(names = "--corridor", defaultValue = "") String corridor;

        @Override
        public Integer call() throws Failure {
            long size = parseSize(spec, slotSize);
            Path conf = dir.resolve("agent.conf");
            if (Files.exists(conf)) throw new Failure(STATE, "sim-init: " + conf + " exists; refusing to overwrite a device (remove the directory first)");
            try {
                Pem.certificates(keyring);
            } catch (Pem.PemException e) {
                throw new Failure(CONFIG, "CONFIG: keyring " + e.getMessage());
            } catch (IOException e) {
                throw new Failure(CONFIG, "CONFIG: keyring " + keyring + ": " + e);
            }
            String id = deviceId != null ? deviceId : dir.toAbsolutePath().getFileName().toString();
            try {
                Files.createDirectories(dir.resolve("state"));
                Files.copy(keyring, dir.resolve("keyring.pem"), StandardCopyOption.REPLACE_EXISTING);
                FileSlotStorage.createSimulated(dir, size);
                SimulatedBootControl.create(dir.resolve("boot"), Slot.A, 3);
                String text = String.join("\n",
                        "# Simulated roadside unit made by 'rsu-agent sim-init'. Paths are relative to this file.",
                        "device.id=" + id, "device.variant=" + variant, "device.region=" + region, "device.corridor=" + corridor,
                        "keyring=keyring.pem", "state.dir=state",
                        "boot.backend=sim", "boot.sim.dir=boot", "boot.tries=3",
                        "slot.a=" + FileSlotStorage.SIMULATED_A, "slot.b=" + FileSlotStorage.SIMULATED_B,
                        "system.release=" + release,
                        "download.retry.base=1s", "download.retry.max=1m", "download.retry.maxFailures=10",
                        "download.stallTimeout=30s", "");
                rsuota.hal.storage.DurableFiles.writeAtomically(conf, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            } catch (IOException | BootControlException e) {
                throw new Failure(STATE, "sim-init: cannot create " + dir + ": " + e.getMessage());
            }
            spec.commandLine().getOut().println(conf.toAbsolutePath());
            return 0;
        }
    }

    @Command(name = "install", mixinStandardHelpOptions = true,
            description = "Download, verify and write a bundle (URL or file) to the inactive slot. A second install over an interrupted one resumes it.")
    static final class Install implements Callable<Integer> {
        @CommandLine.ParentCommand RsuAgent parent;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "SOURCE", description = "http(s) URL or path of a .rsub bundle") String source;
        @Option(names = "--download-only", description = "stop once verified on the inactive slot (no activation)") boolean downloadOnly;

        @Override
        public Integer call() throws Failure, InterruptedException, IOException, AgentException {
            AgentConfig c = parent.loadConfig();
            PrintWriter out = spec.commandLine().getOut();
            try (FileLock lock = lockState(c)) {
                UpdateEngine engine = engine(c);
                EngineState s = engine.state();
                boolean resume = s.state().inFlight() && s.order() != null && s.order().source().equals(source);
                if (resume) {
                    out.println("resuming the interrupted install of " + source + " (" + s.state().reported() + ")");
                } else {
                    engine.order(new EngineState.Order(source, null, null, 0, downloadOnly, null));
                }
                ProgressPrinter printer = new ProgressPrinter(engine, out, System.console() != null);
                printer.start();
                EngineState end;
                long started = System.nanoTime();
                try {
                    end = engine.run();
                } finally {
                    printer.stop();
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                if (end.state() == UpdateState.VERIFIED) {
                    out.printf("verified: release %s on slot %s%s%n", end.target().release(), end.target().slot(),
                            end.order().downloadOnly() ? " (download only; activation is a separate order)" : "");
                    Progress p = engine.progress();
                    if (p != null && p.payloadBytes() > 0) {
                        // What a technician compares with the link's speed; scripts/bench download reads it too.
                        out.printf(java.util.Locale.ROOT, "payload %d bytes verified on the slot in %.2f s (%.0f MiB/s; %d bytes fetched)%n",
                                p.payloadBytes(), seconds, p.payloadBytes() / 1048576.0 / seconds, p.bytesFetched());
                    }
                    return 0;
                }
                return afterActivationStep(engine, end, out);
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "State, slots, versions, download progress, last error.")
    static final class Status implements Callable<Integer> {
        @CommandLine.ParentCommand RsuAgent parent;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--json", description = "machine-readable output") boolean json;

        @Override
        @SuppressWarnings("unchecked")
        public Integer call() throws Failure {
            AgentConfig c = parent.loadConfig();
            Map<String, Object> st = readStatus(c);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(toJson(st));
                return 0;
            }
            Map<String, Object> dl = (Map<String, Object>) st.get("download");
            Map<String, Object> err = (Map<String, Object>) st.get("lastError");
            out.printf("device:   %s (variant %s)%n", c.deviceId(), c.variant());
            out.printf("state:    %s%s%n", st.get("state"), st.get("release") != null ? " (release " + st.get("release") + ")" : "");
            long total = ((Number) dl.get("payloadBytes")).longValue();
            if (total > 0) {
                out.printf("download: %d/%d chunks verified, %d bytes fetched of %d%n", dl.get("chunksVerified"), dl.get("chunksTotal"),
                        dl.get("bytesFetched"), total);
            }
            if (err.get("code") != null) out.printf("last error: %s: %s (%s)%n", err.get("code"), err.get("message"), err.get("at"));
            for (Map<String, Object> s : (List<Map<String, Object>>) st.get("slots")) {
                out.printf("slot %s:   %-9s %-10s%s%n", s.get("name"), s.get("state"), s.get("release") == null ? "-" : s.get("release"),
                        Boolean.TRUE.equals(s.get("booted")) ? " (running)" : "");
            }
            return 0;
        }
    }

    @Command(name = "slots", mixinStandardHelpOptions = true, description = "Both slots: state, release, boot tries, running.")
    static final class Slots implements Callable<Integer> {
        @CommandLine.ParentCommand RsuAgent parent;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--json", description = "machine-readable output") boolean json;

        @Override
        @SuppressWarnings("unchecked")
        public Integer call() throws Failure {
            AgentConfig c = parent.loadConfig();
            List<Map<String, Object>> slots = (List<Map<String, Object>>) readStatus(c).get("slots");
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(toJson(slots));
                return 0;
            }
            out.printf("%-5s %-9s %-12s %-8s %s%n", "SLOT", "STATE", "RELEASE", "RUNNING", "BOOT TRIES");
            for (Map<String, Object> s : slots) {
                out.printf("%-5s %-9s %-12s %-8s %s%n", s.get("name"), s.get("state"), s.get("release") == null ? "-" : s.get("release"),
                        Boolean.TRUE.equals(s.get("booted")) ? "yes" : "no", s.getOrDefault("bootTriesLeft", "?"));
            }
            return 0;
        }
    }

    /** Shared ending of install/activate/rollback: a reboot was requested, or activation waits, or it failed. */
    static int afterActivationStep(UpdateEngine engine, EngineState end, PrintWriter out) throws Failure {
        if (engine.rebootRequested()) {
            if (end.state() == UpdateState.ROLLING_BACK) {
                out.printf("rollback to slot %s set; rebooting%n", end.activation().previousSlot());
            } else {
                out.printf("verified: release %s on slot %s%ntrial boot of slot %s set (%d tries); rebooting%n", end.target().release(),
                        end.target().slot(), end.target().slot(), engine.parts().bootTries());
            }
            return 0;
        }
        if (end.state() == UpdateState.AWAITING_WINDOW) {
            out.printf("verified: release %s on slot %s; activation is waiting: %s%n", end.target().release(), end.target().slot(),
                    engine.waitingFor());
            return 0;
        }
        EngineState.ErrorRecord e = end.lastError();
        throw new Failure(FAILED, (e == null ? "FAILED" : e.code()) + ": " + (e == null ? end.state().reported() : e.message()));
    }

    @Command(name = "activate", mixinStandardHelpOptions = true,
            description = "Activate the verified release: inside a maintenance window (the device's, or --window), or --now.")
    static final class Activate implements Callable<Integer> {
        @CommandLine.ParentCommand RsuAgent parent;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--now", description = "as soon as no inhibitor holds, ignoring the device's windows") boolean now;
        @Option(names = "--window", description = "narrow to a window, e.g. \"Mon-Fri 01:00-04:00 Europe/Berlin\"") String window;

        @Override
        public Integer call() throws Failure, InterruptedException, IOException, AgentException {
            if (now && window != null) throw new CommandLine.ParameterException(spec.commandLine(), "give --now or --window, not both");
            AgentConfig c = parent.loadConfig();
            try (FileLock lock = lockState(c)) {
                UpdateEngine engine = engine(c);
                engine.activate(window, null, now);
                return afterActivationStep(engine, engine.run(), spec.commandLine().getOut());
            }
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Return to the previous release on the other slot (asks for confirmation on a terminal).")
    static final class Rollback implements Callable<Integer> {
        @CommandLine.ParentCommand RsuAgent parent;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--reason", required = true, description = "why (recorded and reported)") String reason;
        @Option(names = "--yes", description = "do not ask for confirmation") boolean yes;

        @Override
        public Integer call() throws Failure, InterruptedException, IOException, AgentException {
            AgentConfig c = parent.loadConfig();
            PrintWriter out = spec.commandLine().getOut();
            try (FileLock lock = lockState(c)) {
                UpdateEngine engine = engine(c);
                java.io.Console console = System.console();
                if (!yes && console != null) {
                    EngineState st = engine.state();
                    String other = st.activation() != null && st.activation().previousSlot() != null ? st.activation().previousSlot() : "the other slot";
                    String answer = console.readLine("Roll back to %s and reboot this unit? [y/N] ", other);
                    if (answer == null || !answer.trim().equalsIgnoreCase("y")) {
                        out.println("rollback not confirmed; nothing changed");
                        return 0;
                    }
                }
                engine.rollback(reason);
                EngineState end = engine.run();
                if (end.state() == UpdateState.ROLLED_BACK && !engine.rebootRequested()) {
                    // the new release never ran here: its activation is called off, nothing to reboot
                    out.println("rolled back: release " + end.target().release() + " was never activated; this unit keeps running its current release");
                    return 0;
                }
                return afterActivationStep(engine, end, out);
            }
        }
    }

    @Command(name = "lock", mixinStandardHelpOptions = true, description = "Hold activations on this unit (technician on site).")
    static final class Lock implements Callable<Integer> {
        @CommandLine.ParentCommand RsuAgent parent;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--reason", required = true) String reason;

        @Override
        public Integer call() throws Failure {
            AgentConfig c = parent.loadConfig();
            try {
                new rsuota.agent.activation.TechnicianLock(c.stateDir()).lock(reason, System.getProperty("user.name"), clock.instant());
            } catch (IOException e) {
                throw new Failure(STATE, "STATE: cannot write the lock: " + e.getMessage());
            }
            spec.commandLine().getOut().println("locked: activations are held until 'rsu-agent unlock' (" + reason + ")");
            return 0;
        }
    }

    @Command(name = "unlock", mixinStandardHelpOptions = true, description = "Release the technician lock.")
    static final class Unlock implements Callable<Integer> {
        @CommandLine.ParentCommand RsuAgent parent;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Failure {
            AgentConfig c = parent.loadConfig();
            try {
                boolean was = new rsuota.agent.activation.TechnicianLock(c.stateDir()).unlock();
                spec.commandLine().getOut().println(was ? "unlocked" : "was not locked");
            } catch (IOException e) {
                throw new Failure(STATE, "STATE: cannot remove the lock: " + e.getMessage());
            }
            return 0;
        }
    }

    @Command(name = "health", mixinStandardHelpOptions = true, description = "Run the health probes once and print each result.")
    static final class Health implements Callable<Integer> {
        @CommandLine.ParentCommand RsuAgent parent;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--json", description = "machine-readable output") boolean json;

        @Override
        public Integer call() throws Failure {
            AgentConfig c = parent.loadConfig();
            rsuota.agent.health.HealthConfig hc;
            try {
                hc = rsuota.agent.health.HealthConfig.parse(c.raw(), c.file(), null);
            } catch (AgentConfig.ConfigException e) {
                throw new Failure(CONFIG, "CONFIG: " + e.getMessage());
            }
            List<rsuota.agent.health.ProbeResult> results = new rsuota.agent.health.HealthMonitor(hc, clock.instant()).checkOnce();
            PrintWriter out = spec.commandLine().getOut();
            boolean all = results.stream().allMatch(rsuota.agent.health.ProbeResult::pass);
            if (json) {
                out.println(toJson(Map.of("healthy", all, "probes", results)));
            } else {
                if (results.isEmpty()) out.println("no health probes configured (health.probe.N in " + c.file() + ")");
                for (var r : results) out.printf("%-4s %s: %s%n", r.pass() ? "ok" : "FAIL", r.name(), r.detail());
            }
            return all ? 0 : FAILED;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run the agent daemon (systemd service): follows the controller's desired state, reports over MQTT.")
    static final class Run implements Callable<Integer> {
        @CommandLine.ParentCommand RsuAgent parent;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Failure, InterruptedException {
            AgentConfig c = parent.loadConfig();
            try (FileLock lock = lockState(c)) {
                rsuota.agent.daemon.AgentDaemon d = new rsuota.agent.daemon.AgentDaemon(c, rsuota.agent.daemon.AgentDaemon.Options.defaults());
                Thread hook = new Thread(d::close, "rsu-shutdown");
                Runtime.getRuntime().addShutdownHook(hook);
                d.start();
                d.awaitStop();
                boolean reboot = d.engine().rebootRequested();
                d.close();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // already shutting down
                }
                spec.commandLine().getOut().println(reboot ? "stopped for a reboot" : "stopped");
                return 0;
            } catch (AgentConfig.ConfigException e) {
                throw new Failure(CONFIG, "CONFIG: " + e.getMessage());
            } catch (IOException e) {
                throw new Failure(STATE, "STATE: " + e.getMessage());
            } catch (BootControlException e) {
                throw new Failure(STATE, "BOOT_CONTROL: " + e.getMessage());
            }
        }
    }

    @Command(name = "diag", mixinStandardHelpOptions = true, description = "Diagnostics for a technician.",
            subcommands = {DiagCollect.class})
    static final class Diag implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (collect)");
        }
    }

    @Command(name = "collect", mixinStandardHelpOptions = true,
            description = "Write a .tar.gz of agent logs, journal excerpts, state files and the config (secrets redacted).")
    static final class DiagCollect implements Callable<Integer> {
        @CommandLine.ParentCommand Diag diag;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "-o", required = true, description = "output file (.tar.gz)") Path out;

        @Override
        public Integer call() throws Failure {
            RsuAgent root = (RsuAgent) spec.commandLine().getParent().getParent().getCommand();
            AgentConfig c = root.loadConfig();
            try {
                String app = c.get("app.unit") == null ? "rsu-app.service" : c.get("app.unit");
                var collector = new rsuota.agent.diag.DiagnosticsCollector(rsuota.agent.diag.DiagnosticsConfig.of(
                        c.stateDir().resolve("logs"), c.stateDir(), c.file(), List.of("rsu-agent.service", app)), clock);
                collector.collect(out);
            } catch (AgentException e) {
                throw new Failure(STATE, "DIAGNOSTICS: " + e.getMessage());
            }
            spec.commandLine().getOut().println("wrote " + out);
            return 0;
        }
    }

    // ---------------------------------------------------------------------------------------------

    static Map<String, Object> readStatus(AgentConfig c) throws Failure {
        try {
            return StatusView.read(c.stateDir(), Assembly.bootControl(c), clock.instant());
        } catch (IOException e) {
            throw new Failure(STATE, "STATE: " + e.getMessage());
        } catch (BootControlException e) {
            throw new Failure(STATE, "BOOT_CONTROL: " + e.getMessage());
        }
    }

    static UpdateEngine engine(AgentConfig c) throws Failure {
        try {
            return new UpdateEngine(c.stateDir(), Assembly.parts(c, EventSink.DISCARD, clock, Sleeper.REAL, CrashHook.NONE));
        } catch (AgentConfig.ConfigException e) {
            throw new Failure(CONFIG, "CONFIG: " + e.getMessage());
        } catch (IOException e) {
            throw new Failure(STATE, "STATE: " + e.getMessage());
        } catch (BootControlException e) {
            throw new Failure(STATE, "BOOT_CONTROL: " + e.getMessage());
        }
    }

    /** One engine per state directory: a second process is told who holds it instead of corrupting it. */
    static FileLock lockState(AgentConfig c) throws Failure {
        try {
            Files.createDirectories(c.stateDir());
            FileChannel ch = FileChannel.open(c.stateDir().resolve("agent.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l = ch.tryLock();
            if (l == null) {
                ch.close();
                throw new Failure(LOCKED, "LOCKED: another rsu-agent (the daemon or an install) is working on " + c.stateDir()
                        + "; wait for it or stop it");
            }
            return l;
        } catch (IOException e) {
            throw new Failure(STATE, "STATE: cannot lock " + c.stateDir() + ": " + e.getMessage());
        }
    }

    static String toJson(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static long parseSize(CommandLine.Model.CommandSpec spec, String s) {
        try {
            long v = rsuota.bundle.ByteSizes.parse(s);
            if (v <= 0) throw new CommandLine.ParameterException(spec.commandLine(), "size must be > 0");
            return v;
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** Prints download progress: a bar on a terminal, plain lines (every 10 %) otherwise. */
    static final class ProgressPrinter {
        private final UpdateEngine engine;
        private final PrintWriter out;
        private final boolean tty;
        private Thread thread;
        private volatile boolean running = true;
        private int lastTenth = -1;

        ProgressPrinter(UpdateEngine engine, PrintWriter out, boolean tty) {
            this.engine = engine;
            this.out = out;
            this.tty = tty;
        }

        void start() {
            thread = new Thread(() -> {
                while (running) {
                    print(false);
                    try {
                        Thread.sleep(250);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "rsu-progress");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.interrupt();
            thread.join();
            print(true);
            if (tty) out.println();
        }

        private void print(boolean last) {
            Progress p = engine.progress();
            if (p == null || p.chunksTotal() == 0) return;
            int pct = (int) (100L * p.chunksVerified() / p.chunksTotal());
            if (tty) {
                int w = 30;
                int filled = w * pct / 100;
                out.printf("\r[%s%s] %3d%%  %d/%d chunks  %.1f MiB fetched", "#".repeat(filled), " ".repeat(w - filled), pct,
                        p.chunksVerified(), p.chunksTotal(), p.bytesFetched() / 1048576.0);
                out.flush();
            } else if (pct / 10 != lastTenth || last && pct == 100 && lastTenth != 10) {
                lastTenth = pct / 10;
                out.printf("progress %d%% (%d/%d chunks, %d bytes fetched)%n", pct, p.chunksVerified(), p.chunksTotal(), p.bytesFetched());
            }
        }
    }
}
