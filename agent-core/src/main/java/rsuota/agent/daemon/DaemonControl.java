package rsuota.agent.daemon;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.agent.activation.TechnicianLock;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.control.Call;
import rsuota.agent.control.ControlFailure;
import rsuota.agent.control.ControlProtocol;
import rsuota.agent.control.ControlServer;
import rsuota.agent.control.Outcomes;
import rsuota.agent.control.ProgressMeter;
import rsuota.agent.diag.DiagnosticsCollector;
import rsuota.agent.diag.DiagnosticsConfig;
import rsuota.agent.health.HealthMonitor;
import rsuota.agent.health.ProbeResult;
import rsuota.agent.report.EventSink;
import rsuota.agent.update.EngineState;
import rsuota.agent.update.StatusView;
import rsuota.agent.update.UpdateEngine;
import rsuota.agent.update.UpdateState;

/**
 * The daemon's answers on its control socket: each rsu-agent subcommand, done by the daemon that
 * owns the engine instead of by a second process that would find the state directory locked.
 * Orders reach the engine the way the controller's do (the loop thread drives it); the reply waits
 * until the loop has settled after the order. Every action that changes the unit is also reported
 * upstream as a {@code local_action} event with the actor {@code technician:<unix user>} and the
 * reason (docs/protocol.md, "Local actions").
 */
final class DaemonControl implements ControlServer.Handler {
    private static final Logger log = LoggerFactory.getLogger(DaemonControl.class);
    /** How often progress and watch poll the engine: a bar that moves four times a second. */
    static final long POLL_MS = 250;
    /** A watch with nothing new still writes this often, so a client that left is noticed. */
    static final long WATCH_HEARTBEAT_MS = 10_000;
    /** Bytes of a diagnostics archive per data message (base64 makes each line a third larger). */
    static final int DATA_CHUNK = 48 * 1024;

    private final AgentDaemon daemon;
    private final AgentConfig config;
    private final UpdateEngine engine;
    private final EventSink events;
    private final Clock clock;

    DaemonControl(AgentDaemon daemon, AgentConfig config, EventSink events, Clock clock) {
        this.daemon = daemon;
        this.config = config;
        this.engine = daemon.engine();
        this.events = events;
        this.clock = clock;
    }

    @Override
    public void handle(Call call) throws ControlFailure, IOException, InterruptedException {
        ControlProtocol.Request r = call.request();
        switch (r.op()) {
            case "status", "slots" -> call.reply(List.of(), status());
            case "watch" -> watch(call);
            case "install" -> install(call);
            case "activate" -> activate(call);
            case "rollback" -> rollback(call);
            case "cancel" -> cancel(call);
            case "lock" -> lock(call);
            case "unlock" -> unlock(call);
            case "health" -> health(call);
            case "diag.collect" -> diagCollect(call);
            default -> throw new ControlFailure(AgentError.BAD_REQUEST, "unknown op " + r.op());
        }
    }

    private Map<String, Object> status() {
        Map<String, Object> st = StatusView.of(engine.state(), engine.progress(), engine.parts().boot());
        if (engine.waitingFor() != null) st.put("waitingFor", engine.waitingFor());
        st.put("daemon", true);
        return st;
    }

    /** Follows the engine: a status event at each change (and every 10 s), until the client leaves or the daemon stops. */
    private void watch(Call call) throws IOException, InterruptedException {
        String last = null;
        long lastSent = 0;
        while (call.serving()) {
            Map<String, Object> st = status();
            String key = st.toString();
            long now = System.nanoTime();
            if (!key.equals(last) || now - lastSent > TimeUnit.MILLISECONDS.toNanos(WATCH_HEARTBEAT_MS)) {
                call.event(st); // throws once the client left: the watch ends, nothing else does
                last = key;
                lastSent = now;
            }
            Thread.sleep(POLL_MS);
        }
        call.reply(List.of("the daemon is stopping; watch ended"), status());
    }

    private void install(Call call) throws ControlFailure, IOException, InterruptedException {
        ControlProtocol.Request r = call.request();
        String source = r.required("source");
        boolean downloadOnly = r.flag("downloadOnly");
        EngineState s = engine.state();
        boolean resume = s.state().inFlight() && s.order() != null && s.order().source().equals(source);
        List<String> lines = new ArrayList<>();
        if (resume) {
            note(call, "resuming the interrupted install of " + source + " (" + s.state().reported() + ")");
        } else {
            try {
                engine.order(new EngineState.Order(source, null, null, 0, downloadOnly, null));
            } catch (AgentException e) {
                throw ControlFailure.of(e);
            }
            // the unit is the technician's now: the controller's orders wait for unlock
            new TechnicianLock(config.stateDir()).markLocallyManaged(call.peer().user(), clock.instant(), source);
        }
        report(call, "install", r.arg("reason"), Map.of("source", source, "downloadOnly", Boolean.toString(downloadOnly)));
        long started = System.nanoTime();
        EngineState end = follow(call, daemon.nextSettle());
        double seconds = (System.nanoTime() - started) / 1e9;
        if (end.state() == UpdateState.VERIFIED) {
            lines.addAll(Outcomes.verified(end, engine.progress(), seconds));
        } else if (end.state() == UpdateState.IDLE) {
            throw new ControlFailure(AgentError.CANCELLED, "the install of " + source + " was cancelled before it was verified");
        } else {
            lines.addAll(Outcomes.afterActivationStep(engine, end, engine.waitingFor()));
        }
        call.reply(lines, status());
    }

    private void activate(Call call) throws ControlFailure, IOException, InterruptedException {
        ControlProtocol.Request r = call.request();
        String window = r.arg("window");
        boolean now = r.flag("now");
        EngineState end = onLoop(() -> engine.activate(window, null, now));
        report(call, "activate", r.arg("reason"), window == null ? Map.of("now", Boolean.toString(now)) : Map.of("window", window));
        call.reply(Outcomes.afterActivationStep(engine, end, engine.waitingFor()), status());
    }

    private void rollback(Call call) throws ControlFailure, IOException, InterruptedException {
        String reason = call.request().required("reason");
        EngineState end = onLoop(() -> engine.rollback(reason + " (" + call.peer().actor() + ")"));
        report(call, "rollback", reason, Map.of());
        if (end.state() == UpdateState.ROLLED_BACK && !engine.rebootRequested()) {
            call.reply(List.of("rolled back: release " + end.target().release() + " was never activated; this unit keeps running its current release"),
                    status());
            return;
        }
        call.reply(Outcomes.afterActivationStep(engine, end, engine.waitingFor()), status());
    }

    private void cancel(Call call) throws ControlFailure, IOException, InterruptedException {
        String reason = "cancelled by " + call.peer().actor() + (call.request().arg("reason") != null ? ": " + call.request().arg("reason") : "");
        EngineState before = engine.state();
        String what;
        if (before.state() == UpdateState.PENDING || before.state() == UpdateState.DOWNLOADING) {
            // the loop thread is inside the download: it stops at the next chunk and persists IDLE
            engine.requestCancel(reason);
            EngineState end = await(daemon.nextSettle());
            if (end.state() != UpdateState.IDLE) {
                throw new ControlFailure(AgentError.NOTHING_TO_CANCEL, "too late: the install had already finished (" + end.state().reported() + ")");
            }
            what = "cancelled: the install stopped; the unit keeps running its current release";
        } else {
            String[] said = new String[1];
            onLoop(() -> said[0] = engine.cancel(reason));
            what = said[0];
        }
        report(call, "cancel", call.request().arg("reason"), Map.of("state", before.state().reported()));
        call.reply(List.of(what), status());
    }

    private void lock(Call call) throws ControlFailure, IOException {
        String reason = call.request().required("reason");
        try {
            new TechnicianLock(config.stateDir()).lock(reason, call.peer().user(), clock.instant());
        } catch (IOException e) {
            throw new ControlFailure("STATE", rsuota.agent.AgentExit.STATE, "cannot write the lock: " + e.getMessage());
        }
        report(call, "lock", reason, Map.of());
        call.reply(List.of("locked: activations are held until 'rsu-agent unlock' (" + reason + ")"), status());
    }

    private void unlock(Call call) throws ControlFailure, IOException {
        boolean was;
        try {
            was = new TechnicianLock(config.stateDir()).unlock();
        } catch (IOException e) {
            throw new ControlFailure("STATE", rsuota.agent.AgentExit.STATE, "cannot remove the lock: " + e.getMessage());
        }
        if (was) report(call, "unlock", call.request().arg("reason"), Map.of());
        daemon.releaseHeld();
        call.reply(List.of(was ? "unlocked" : "was not locked"), status());
    }

    private void health(Call call) throws IOException {
        // The daemon's probes see its link: the "controller" probe answers for real here.
        List<ProbeResult> results = new HealthMonitor(config.health(), clock.instant()).checkOnce();
        boolean all = results.stream().allMatch(ProbeResult::pass);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("healthy", all);
        out.put("probes", results);
        call.reply(List.of(), out);
    }

    /** The archive is written by the daemon (it reads what the technician may not) and streamed to the client, which writes -o. */
    private void diagCollect(Call call) throws ControlFailure, IOException {
        Path work = Files.createDirectories(config.stateDir().resolve("diag-work"));
        Path tmp = Files.createTempFile(work, "technician-", ".tar.gz");
        try {
            new DiagnosticsCollector(DiagnosticsConfig.of(config.stateDir().resolve("logs"), config.stateDir(), config.file(),
                    List.of("rsu-agent.service", config.app().unit())), clock).collect(tmp);
            long size = Files.size(tmp);
            byte[] buf = new byte[DATA_CHUNK];
            try (InputStream in = Files.newInputStream(tmp)) {
                int n;
                while ((n = in.readNBytes(buf, 0, buf.length)) > 0) call.data(buf, n);
            }
            call.reply(List.of(), Map.of("bytes", size));
        } catch (AgentException e) {
            throw new ControlFailure("DIAGNOSTICS", rsuota.agent.AgentExit.STATE, e.getMessage());
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Streams progress while the loop works on the order; the client leaving (Ctrl-C) detaches, the install goes on. */
    private EngineState follow(Call call, CompletableFuture<EngineState> settled) throws InterruptedException, ControlFailure {
        ProgressMeter meter = new ProgressMeter();
        ProgressMeter.Report last = null;
        boolean attached = true;
        while (true) {
            try {
                return settled.get(POLL_MS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                ProgressMeter.Report p = meter.sample(engine.progress(), System.nanoTime());
                if (attached && p != null && !p.equals(last)) {
                    try {
                        call.progress(p);
                        last = p;
                    } catch (IOException gone) {
                        attached = false;
                        log.info("{} detached from the install; it goes on", call.peer().actor());
                    }
                }
                if (!call.serving()) throw new ControlFailure(AgentError.DAEMON_GONE, "the daemon is stopping; the install resumes when it starts again");
            } catch (ExecutionException e) {
                throw new ControlFailure(AgentError.DAEMON_GONE, "the daemon's loop ended: " + e.getCause());
            }
        }
    }

    private EngineState await(CompletableFuture<EngineState> f) throws InterruptedException, ControlFailure {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AgentException ae) throw ControlFailure.of(ae);
            throw new ControlFailure(AgentError.DAEMON_GONE, "the daemon's loop ended: " + e.getCause());
        }
    }

    /** Runs {@code action} on the loop thread (between two engine runs) and returns the state once the loop settled after it. */
    private EngineState onLoop(AgentDaemon.EngineAction action) throws InterruptedException, ControlFailure {
        return await(daemon.actThenSettle(action));
    }

    private static void note(Call call, String text) throws IOException {
        call.progress(Map.of("note", text));
    }

    /** A local action, reported upstream: who (the kernel's word for the peer), what, why. */
    private void report(Call call, String action, String reason, Map<String, String> detail) {
        Map<String, String> d = new LinkedHashMap<>(detail);
        d.put("actor", call.peer().actor());
        d.put("action", action);
        if (reason != null && !reason.isBlank()) d.put("reason", reason);
        EngineState s = engine.state();
        String release = s.target() != null ? s.target().release() : s.order() != null ? s.order().release() : null;
        try {
            events.emit(new EventSink.Draft(rsuota.wire.MqttEvent.LOCAL_ACTION, s.state().reported(), release, null, d));
        } catch (IOException e) {
            log.error("local action {} by {} not recorded for the controller: {}", action, call.peer().actor(), e.toString());
        }
    }
}
