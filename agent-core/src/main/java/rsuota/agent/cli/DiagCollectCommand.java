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
        var daemon = daemon(c);
        if (daemon.isPresent()) {
            // The daemon reads what the technician may not (journal, state); the file is written here, as this user.
            java.nio.file.Path tmp = out.toAbsolutePath().resolveSibling("." + out.getFileName() + ".part");
            try (java.io.OutputStream o = java.nio.file.Files.newOutputStream(tmp)) {
                java.io.IOException[] failed = new java.io.IOException[1];
                ask(daemon.get(), "diag.collect", java.util.Map.of(), m -> {
                    try {
                        if (failed[0] == null) o.write(java.util.Base64.getDecoder().decode(m.path("base64").asText()));
                    } catch (java.io.IOException e) {
                        failed[0] = e;
                    }
                });
                if (failed[0] != null) throw failed[0];
            } catch (java.io.IOException e) {
                throw new Failure(AgentExit.STATE, "DIAGNOSTICS: cannot write " + out + ": " + e.getMessage());
            }
            try {
                java.nio.file.Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (java.io.IOException e) {
                throw new Failure(AgentExit.STATE, "DIAGNOSTICS: cannot write " + out + ": " + e.getMessage());
            }
            spec.commandLine().getOut().println("wrote " + out);
            return 0;
        }
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
