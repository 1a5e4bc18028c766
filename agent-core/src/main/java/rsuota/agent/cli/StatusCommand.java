package rsuota.agent.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rsuota.agent.config.AgentConfig;

/** Prints the device's state, slots, download progress and last error. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "State, slots, versions, download progress, last error.")
final class StatusCommand extends DeviceCommand implements Callable<Integer> {
    @Option(names = "--json", description = "machine-readable output") boolean json;

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() throws Failure {
        AgentConfig c = config();
        Map<String, Object> st = readStatus(c);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(toJson(st));
            return 0;
        }
        Map<String, Object> dl = (Map<String, Object>) st.get("download");
        Map<String, Object> err = (Map<String, Object>) st.get("lastError");
        out.printf("device:   %s (variant %s)%n", c.device().id(), c.device().variant());
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
