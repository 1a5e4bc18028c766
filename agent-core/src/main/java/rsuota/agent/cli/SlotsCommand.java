package rsuota.agent.cli;

import java.util.Locale;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rsuota.agent.config.AgentConfig;

/** Prints both slots as a table (or JSON). */
@Command(name = "slots", mixinStandardHelpOptions = true, description = "Both slots: state, release, boot tries, running.")
final class SlotsCommand extends DeviceCommand implements Callable<Integer> {
    @Option(names = "--json", description = "machine-readable output") boolean json;

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() throws Failure {
        AgentConfig c = config();
        var daemon = daemon(c);
        Map<String, Object> st = daemon.isPresent() ? asMap(ask(daemon.get(), "slots", Map.of(), m -> { }).result()) : readStatus(c);
        List<Map<String, Object>> slots = (List<Map<String, Object>>) st.get("slots");
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(toJson(slots));
            return 0;
        }
        out.printf(Locale.US, "%-5s %-9s %-12s %-8s %s%n", "SLOT", "STATE", "RELEASE", "RUNNING", "BOOT TRIES");
        for (Map<String, Object> s : slots) {
            out.printf(Locale.US, "%-5s %-9s %-12s %-8s %s%n", s.get("name"), s.get("state"), s.get("release") == null ? "-" : s.get("release"),
                    Boolean.TRUE.equals(s.get("booted")) ? "yes" : "no", s.getOrDefault("bootTriesLeft", "?"));
        }
        return 0;
    }
}
