package rsuota.agent.cli;

import java.util.Locale;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rsuota.agent.config.AgentConfig;

/**
 * Checks the configuration file (every problem at once, exit 4) and, with {@code --explain}, prints
 * every key with the value in force and where it came from: the technician's answer to "which
 * window, which probe, which broker is this box really using".
 */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "Check agent.conf (every problem at once); --explain prints every key with its value and source (file, default, unset).")
final class ConfigCommand extends DeviceCommand implements Callable<Integer> {
    @Option(names = "--explain", description = "every key, its value in force and its source") boolean explain;
    @Option(names = "--json", description = "machine-readable output (with --explain)") boolean json;

    @Override
    public Integer call() throws Failure {
        AgentConfig c = config();
        PrintWriter out = spec.commandLine().getOut();
        if (!explain) {
            out.println(c.file() + ": ok");
            return 0;
        }
        if (json) {
            out.println(toJson(c.settings()));
            return 0;
        }
        out.printf(Locale.US, "%-30s %-36s %-8s %s%n", "KEY", "VALUE", "SOURCE", "MEANING");
        for (AgentConfig.Setting s : c.settings()) {
            out.printf(Locale.US, "%-30s %-36s %-8s %s%n", s.key(), s.value().isEmpty() ? "-" : s.value(), s.source(), s.meaning());
        }
        return 0;
    }
}
