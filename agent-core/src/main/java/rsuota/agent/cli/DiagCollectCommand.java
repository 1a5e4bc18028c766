package rsuota.agent.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rsuota.agent.AgentException;
import rsuota.agent.AgentExit;
import rsuota.agent.config.AgentConfig;

/** Writes a diagnostics archive for a technician. */
@Command(name = "collect", mixinStandardHelpOptions = true,
        description = "Write a .tar.gz of agent logs, journal excerpts, state files and the config (secrets redacted).")
final class DiagCollectCommand extends DeviceCommand implements Callable<Integer> {
    @Option(names = "-o", paramLabel = "FILE", required = true, description = "output file (.tar.gz)") Path out;

    @Override
    public Integer call() throws Failure {
        AgentConfig c = config();
        try {
            String app = c.app().unit();
            var collector = new rsuota.agent.diag.DiagnosticsCollector(rsuota.agent.diag.DiagnosticsConfig.of(
                    c.stateDir().resolve("logs"), c.stateDir(), c.file(), List.of("rsu-agent.service", app)), clock);
            collector.collect(out);
        } catch (AgentException e) {
            throw new Failure(AgentExit.STATE, "DIAGNOSTICS: " + e.getMessage());
        }
        spec.commandLine().getOut().println("wrote " + out);
        return 0;
    }
}
