package rsuota.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import rsuota.agent.AgentException;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.control.ControlClient;
import rsuota.agent.control.Outcomes;
import rsuota.agent.control.ProgressMeter;
import rsuota.agent.update.EngineState;
import rsuota.agent.update.UpdateState;

/**
 * Installs a bundle to the inactive slot, resuming an interrupted install of the same source.
 * With the daemon running, the daemon installs and this command shows its progress; Ctrl-C
 * detaches (the install goes on), {@code rsu-agent cancel} stops it.
 */
@Command(name = "install", mixinStandardHelpOptions = true,
        description = "Download, verify and write a bundle (URL or file) to the inactive slot. A second install over an interrupted one resumes it.")
final class InstallCommand extends DeviceCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SOURCE", description = "http(s) URL or path of a .rsub bundle") String source;
    @Option(names = "--download-only", description = "stop once verified on the inactive slot (no activation)") boolean downloadOnly;
    @Option(names = "--json", description = "progress and the result as JSON lines") boolean json;
    @Option(names = "--reason", paramLabel = "TEXT", description = "why (reported to the controller with your user name)") String reason;

    @Override
    public Integer call() throws Failure, InterruptedException, IOException, AgentException {
        AgentConfig c = config();
        // A file is named by its absolute path: the daemon's working directory is not the technician's.
        String src = source.contains("://") ? source : Path.of(source).toAbsolutePath().normalize().toString();
        PrintWriter out = spec.commandLine().getOut();
        ProgressPrinter printer = new ProgressPrinter(out, System.console() != null, json);
        Optional<ControlClient> daemon = daemon(c);
        if (daemon.isPresent()) return throughDaemon(daemon.get(), src, printer, out);
        return withEngine((engine, o) -> {
            EngineState s = engine.state();
            boolean resume = s.state().inFlight() && s.order() != null && s.order().source().equals(src);
            if (resume) {
                printer.note("resuming the interrupted install of " + src + " (" + s.state().reported() + ")");
            } else {
                engine.order(new EngineState.Order(src, null, null, 0, downloadOnly, null));
                // as through the daemon: the unit is the technician's until unlock (the daemon keeps the controller's orders back)
                new rsuota.agent.activation.TechnicianLock(c.stateDir()).markLocallyManaged(System.getProperty("user.name"), clock.instant(), src);
                reportLocal(c, "install", reason, java.util.Map.of("source", src, "downloadOnly", Boolean.toString(downloadOnly)));
            }
            printer.follow(engine);
            EngineState end;
            long started = System.nanoTime();
            try {
                end = engine.run();
            } finally {
                printer.stop();
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            if (end.state() == UpdateState.VERIFIED) {
                result(out, Outcomes.verified(end, engine.progress(), seconds), null);
                return 0;
            }
            if (json) {
                java.io.StringWriter w = new java.io.StringWriter();
                int code = afterActivationStep(engine, end, new PrintWriter(w));
                result(out, w.toString().lines().toList(), null);
                return code;
            }
            return afterActivationStep(engine, end, out);
        });
    }

    private int throughDaemon(ControlClient d, String src, ProgressPrinter printer, PrintWriter out) throws Failure {
        PrintWriter err = spec.commandLine().getErr();
        // Ctrl-C ends this process, not the install: say how to follow or stop it.
        Thread detach = new Thread(() -> {
            printer.finish();
            err.println("detached: the install goes on in the daemon; 'rsu-agent status --watch' follows it, 'rsu-agent cancel' stops it");
        }, "rsu-detach");
        Runtime.getRuntime().addShutdownHook(detach);
        ControlClient.Reply reply;
        try {
            reply = ask(d, "install", args("source", src, "downloadOnly", downloadOnly, "reason", reason), m -> {
                JsonNode p = m.path("progress");
                if (p.has("note")) printer.note(p.path("note").asText());
                else if (p.has("chunksTotal")) printer.show(Json.INDENTED.convertValue(p, ProgressMeter.Report.class));
            });
        } finally {
            printer.finish();
            try {
                Runtime.getRuntime().removeShutdownHook(detach);
            } catch (IllegalStateException e) {
                // already shutting down: the hook says its line
            }
        }
        result(out, reply.lines(), reply.result());
        return 0;
    }

    /** The final lines, or with --json one result line (the status after the install when the daemon did it). */
    private void result(PrintWriter out, java.util.List<String> lines, JsonNode status) {
        if (!json) {
            lines.forEach(out::println);
            return;
        }
        java.util.Map<String, Object> r = new java.util.LinkedHashMap<>();
        r.put("type", "result");
        r.put("lines", lines);
        if (status != null && !status.isMissingNode()) r.put("status", status);
        out.println(line(r));
    }
}
