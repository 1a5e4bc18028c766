package rsuota.agent.cli;

import java.util.Locale;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rsuota.agent.AgentExit;
import rsuota.agent.config.AgentConfig;

/** Runs the health probes once. */
@Command(name = "health", mixinStandardHelpOptions = true, description = "Run the health probes once and print each result.")
final class HealthCommand extends DeviceCommand implements Callable<Integer> {
    @Option(names = "--json", description = "machine-readable output") boolean json;

    @Override
    public Integer call() throws Failure {
        AgentConfig c = config();
        var daemon = daemon(c);
        List<rsuota.agent.health.ProbeResult> results;
        if (daemon.isPresent()) {
            // the daemon's probes: its "controller" probe sees the live link
            results = List.of(Json.INDENTED.convertValue(ask(daemon.get(), "health", Map.of(), m -> { }).result().path("probes"),
                    rsuota.agent.health.ProbeResult[].class));
        } else {
            results = new rsuota.agent.health.HealthMonitor(c.health(), clock.instant()).checkOnce();
        }
        PrintWriter out = spec.commandLine().getOut();
        boolean all = results.stream().allMatch(rsuota.agent.health.ProbeResult::pass);
        if (json) {
            out.println(toJson(Map.of("healthy", all, "probes", results)));
        } else {
            if (results.isEmpty()) out.println("no health probes configured (health.probe.N in " + c.file() + ")");
            for (var r : results) out.printf(Locale.US, "%-4s %s: %s%n", r.pass() ? "ok" : "FAIL", r.name(), r.detail());
        }
        return all ? 0 : AgentExit.FAILED.code();
    }
}
