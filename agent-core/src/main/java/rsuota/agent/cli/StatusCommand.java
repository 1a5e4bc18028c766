package rsuota.agent.cli;

import java.util.Locale;

import java.io.PrintWriter;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.control.ControlClient;

/** Prints the device's state, slots, download progress and last error; with --watch, follows the engine. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "State, slots, versions, download progress, last error.")
final class StatusCommand extends DeviceCommand implements Callable<Integer> {
    /** Without a daemon, --watch re-reads the state directory this often. */
    static final long LOCAL_WATCH_MS = 1000;

    @Option(names = "--json", description = "machine-readable output") boolean json;
    @Option(names = "--watch", description = "follow the engine: a line at each change, until Ctrl-C") boolean watch;

    @Override
    public Integer call() throws Failure, InterruptedException {
        AgentConfig c = config();
        PrintWriter out = spec.commandLine().getOut();
        Optional<ControlClient> daemon = daemon(c);
        if (watch) {
            if (daemon.isPresent()) {
                ask(daemon.get(), "watch", Map.of(), m -> printChange(out, asMap(m.path("status")))).lines().forEach(out::println);
                return 0;
            }
            while (true) { // until Ctrl-C, like tail -f
                printChange(out, readStatus(c));
                Thread.sleep(LOCAL_WATCH_MS);
            }
        }
        Map<String, Object> st = daemon.isPresent() ? asMap(ask(daemon.get(), "status", Map.of(), m -> { }).result()) : readStatus(c);
        if (json) {
            out.println(toJson(st));
            return 0;
        }
        print(c, st, out);
        return 0;
    }

    private String lastWatched;

    /** One line per change: time, state, release, progress, what activation waits for, last error. */
    @SuppressWarnings("unchecked")
    private void printChange(PrintWriter out, Map<String, Object> st) {
        if (json) {
            String l = line(st);
            if (!l.equals(lastWatched)) out.println(l);
            lastWatched = l;
            return;
        }
        Map<String, Object> dl = (Map<String, Object>) st.get("download");
        Map<String, Object> err = (Map<String, Object>) st.get("lastError");
        StringBuilder b = new StringBuilder().append(st.get("state"));
        if (st.get("release") != null) b.append(" ").append(st.get("release"));
        long total = ((Number) dl.get("chunksTotal")).longValue();
        if (total > 0) b.append("  ").append(dl.get("chunksVerified")).append("/").append(total).append(" chunks");
        if (st.get("waitingFor") != null) b.append("  waiting: ").append(st.get("waitingFor"));
        if (err.get("code") != null) b.append("  last error: ").append(err.get("code"));
        String l = b.toString();
        if (!l.equals(lastWatched)) {
            out.println(LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + "  " + l);
            out.flush();
        }
        lastWatched = l;
    }

    @SuppressWarnings("unchecked")
    private static void print(AgentConfig c, Map<String, Object> st, PrintWriter out) {
        Map<String, Object> dl = (Map<String, Object>) st.get("download");
        Map<String, Object> err = (Map<String, Object>) st.get("lastError");
        out.printf(Locale.US, "device:   %s (variant %s)%n", c.device().id(), c.device().variant());
        out.printf(Locale.US, "state:    %s%s%n", st.get("state"), st.get("release") != null ? " (release " + st.get("release") + ")" : "");
        long total = ((Number) dl.get("payloadBytes")).longValue();
        if (total > 0) {
            out.printf(Locale.US, "download: %d/%d chunks verified, %d bytes fetched of %d%s%n", dl.get("chunksVerified"), dl.get("chunksTotal"),
                    dl.get("bytesFetched"), total, ((Number) dl.get("chunksReused")).intValue() > 0
                            ? ", " + dl.get("bytesReused") + " bytes (" + dl.get("chunksReused") + " chunks) copied from the running slot" : "");
        }
        if (st.get("waitingFor") != null) out.printf(Locale.US, "waiting:  %s%n", st.get("waitingFor"));
        if (err.get("code") != null) out.printf(Locale.US, "last error: %s: %s (%s)%n", err.get("code"), err.get("message"), err.get("at"));
        for (Map<String, Object> s : (List<Map<String, Object>>) st.get("slots")) {
            out.printf(Locale.US, "slot %s:   %-9s %-10s%s%n", s.get("name"), s.get("state"), s.get("release") == null ? "-" : s.get("release"),
                    Boolean.TRUE.equals(s.get("booted")) ? " (running)" : "");
        }
    }
}
