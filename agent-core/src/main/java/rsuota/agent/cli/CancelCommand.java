package rsuota.agent.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rsuota.agent.AgentException;

/** Stops an install (or an activation waiting for its window); a detached install is stopped this way. */
@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = "Stop the install in progress (back to idle; the running release stays), or call off an activation waiting for its window.")
final class CancelCommand extends DeviceCommand implements Callable<Integer> {
    @Option(names = "--reason", paramLabel = "TEXT", description = "why (reported to the controller with your user name)") String reason;

    @Override
    public Integer call() throws Failure, InterruptedException, IOException, AgentException {
        var daemon = daemon(config());
        if (daemon.isPresent()) {
            ask(daemon.get(), "cancel", args("reason", reason), m -> { }).lines().forEach(spec.commandLine().getOut()::println);
            return 0;
        }
        return withEngine((engine, out) -> {
            out.println(engine.cancel("cancelled by technician:" + System.getProperty("user.name") + (reason != null ? ": " + reason : "")));
            reportLocal(config(), "cancel", reason, java.util.Map.of());
            return 0;
        });
    }
}
