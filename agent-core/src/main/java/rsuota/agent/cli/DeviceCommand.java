package rsuota.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine;
import rsuota.agent.control.ControlClient;
import rsuota.agent.control.ControlFailure;
import rsuota.agent.control.Outcomes;
import rsuota.agent.AgentException;
import rsuota.agent.AgentExit;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.config.Assembly;
import rsuota.agent.download.Sleeper;
import rsuota.agent.report.EventSink;
import rsuota.agent.update.CrashHook;
import rsuota.agent.update.EngineState;
import rsuota.agent.update.StatusView;
import rsuota.agent.update.UpdateEngine;
import rsuota.hal.boot.BootControlException;

/**
 * What the rsu-agent subcommands share: the device's configuration (the top command's
 * {@code --config}), its engine, the state-directory lock and the status view, each failing with
 * the exit status and stderr line scripts rely on. A shallow base class rather than a helper
 * object because picocli injects {@link #spec} into it for every subcommand.
 */
abstract class DeviceCommand {
    static Clock clock = Clock.systemUTC();

    /**
     * Indented JSON for --json output and the daemon's replies. databind, so loaded only by a command that prints
     * JSON or talks to the daemon: a plain install never initialises it (~9 MiB on a unit, docs/benchmarks.md).
     */
    static final class Json {
        static final ObjectMapper INDENTED = new ObjectMapper().enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);
        static final ObjectMapper LINE = new ObjectMapper();

        private Json() {}
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The configuration named by {@code --config} (given before or after the subcommand); a usage error without it. */
    AgentConfig config() throws Failure {
        CommandLine top = spec.commandLine();
        while (top.getParent() != null) top = top.getParent();
        Path config = ((RsuAgent) top.getCommand()).config;
        if (config == null) {
            throw new CommandLine.ParameterException(top, "--config CONF is required for this command");
        }
        try {
            return AgentConfig.load(config);
        } catch (AgentConfig.ConfigException e) {
            throw new Failure(AgentExit.CONFIG, "CONFIG: " + e.getMessage());
        } catch (IOException e) {
            throw new Failure(AgentExit.CONFIG, "CONFIG: cannot read " + config + ": " + e);
        }
    }

    /** Shared ending of install/activate/rollback: a reboot was requested, or activation waits, or it failed. */
    static int afterActivationStep(UpdateEngine engine, EngineState end, PrintWriter out) throws Failure {
        try {
            Outcomes.afterActivationStep(engine, end, engine.waitingFor()).forEach(out::println);
            return 0;
        } catch (ControlFailure f) {
            throw failure(f);
        }
    }

    /**
     * The running daemon, or empty when none runs (no socket file, nobody listening): the command then
     * works on the state directory itself. A daemon that refuses this user is a failure, not a fallback.
     */
    static Optional<ControlClient> daemon(AgentConfig c) throws Failure {
        try {
            return ControlClient.connect(c.control().socket());
        } catch (ControlFailure f) {
            throw failure(f);
        }
    }

    /** One request to the daemon; its failure becomes the same stderr line and exit status as without a daemon. */
    static ControlClient.Reply ask(ControlClient d, String op, Map<String, String> args, Consumer<JsonNode> onMessage) throws Failure {
        try (d) {
            return d.call(op, args, onMessage);
        } catch (ControlFailure f) {
            throw failure(f);
        }
    }

    /**
     * Without a daemon, a local action still reaches the controller: it goes into the unit's outbox
     * (the caller holds the state-directory lock, so no daemon writes it now), and the daemon sends it
     * when it next runs. The actor is this process's user. A failure to record it is said on stderr;
     * the action itself is done.
     */
    void reportLocal(AgentConfig c, String action, String reason, Map<String, String> detail) {
        Map<String, String> d = new LinkedHashMap<>(detail);
        d.put("actor", "technician:" + System.getProperty("user.name"));
        d.put("action", action);
        if (reason != null && !reason.isBlank()) d.put("reason", reason);
        try (rsuota.agent.report.Outbox outbox = rsuota.agent.report.Outbox.open(
                rsuota.agent.report.OutboxConfig.in(c.stateDir().resolve("outbox")), c.device().id(), clock)) {
            outbox.emit(new rsuota.agent.report.EventSink.Draft(rsuota.wire.MqttEvent.LOCAL_ACTION, null, null, null, d));
        } catch (IOException e) {
            spec.commandLine().getErr().println("note: " + action + " done, but not recorded for the controller: " + e.getMessage());
        }
    }

    /** {@link #reportLocal} for a command that does not otherwise take the state-directory lock (lock, unlock). */
    void reportLocalIfFree(AgentConfig c, String action, String reason) {
        try (FileLock l = lockState(c)) {
            reportLocal(c, action, reason, Map.of());
        } catch (Failure | IOException busy) {
            // a daemon without its socket holds the directory: it is running, and the lock file speaks for itself
        }
    }

    static Failure failure(ControlFailure f) {
        return new Failure(f.exit(), f.line());
    }

    /** Arguments of a request: the non-null ones, as strings. */
    static Map<String, String> args(Object... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) if (kv[i + 1] != null) m.put((String) kv[i], String.valueOf(kv[i + 1]));
        return m;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(JsonNode n) {
        return Json.INDENTED.convertValue(n, Map.class);
    }

    /** One compact JSON line (--json streams). */
    static String line(Object o) {
        try {
            return Json.LINE.writeValueAsString(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> readStatus(AgentConfig c) throws Failure {
        try {
            return StatusView.read(c.stateDir(), Assembly.bootControl(c), clock.instant());
        } catch (IOException | BootControlException e) {
            throw cannotOpen(e);
        }
    }

    static UpdateEngine engine(AgentConfig c) throws Failure {
        try {
            return new UpdateEngine(c.stateDir(), Assembly.parts(c, EventSink.DISCARD, clock, Sleeper.REAL, CrashHook.NONE));
        } catch (AgentConfig.ConfigException | IOException | BootControlException e) {
            throw cannotOpen(e);
        }
    }

    /** Why the device could not be opened, as the CLI reports it: configuration, state directory or boot environment. */
    static Failure cannotOpen(Exception e) {
        if (e instanceof AgentConfig.ConfigException) return new Failure(AgentExit.CONFIG, "CONFIG: " + e.getMessage());
        if (e instanceof BootControlException) return new Failure(AgentExit.STATE, "BOOT_CONTROL: " + e.getMessage());
        return new Failure(AgentExit.STATE, "STATE: " + e.getMessage());
    }

    /** What a command does with the engine while it holds the state-directory lock. */
    interface EngineStep {
        int run(UpdateEngine engine, PrintWriter out) throws Failure, InterruptedException, IOException, AgentException;
    }

    /** Opens the device's engine under the state-directory lock (one engine per directory) and runs {@code step}. */
    int withEngine(EngineStep step) throws Failure, InterruptedException, IOException, AgentException {
        AgentConfig c = config();
        try (FileLock lock = lockState(c)) {
            return step.run(engine(c), spec.commandLine().getOut());
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
                throw new Failure(AgentExit.LOCKED, "LOCKED: another rsu-agent (the daemon or an install) is working on " + c.stateDir()
                        + "; wait for it or stop it");
            }
            return l;
        } catch (IOException e) {
            throw new Failure(AgentExit.STATE, "STATE: cannot lock " + c.stateDir() + ": " + e.getMessage());
        }
    }

    static String toJson(Object o) {
        try {
            return Json.INDENTED.writeValueAsString(o);
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
}
