package rsuota.agent.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;
import rsuota.agent.AgentException;

/** Activates the verified release, inside a maintenance window or now. */
@Command(name = "activate", mixinStandardHelpOptions = true,
        description = "Activate the verified release: inside a maintenance window (the device's, or --window), or --now.")
final class ActivateCommand extends DeviceCommand implements Callable<Integer> {
    @Option(names = "--now", description = "as soon as no inhibitor holds, ignoring the device's windows") boolean now;
    @Option(names = "--window", paramLabel = "WINDOW", description = "narrow to a window, e.g. \"Mon-Fri 01:00-04:00 Europe/Berlin\"") String window;

    @Override
    public Integer call() throws Failure, InterruptedException, IOException, AgentException {
        if (now && window != null) throw new CommandLine.ParameterException(spec.commandLine(), "give --now or --window, not both");
        return withEngine((engine, out) -> {
            engine.activate(window, null, now);
            return afterActivationStep(engine, engine.run(), out);
        });
    }
}
