package rsuota.agent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** Groups the diagnostics subcommands. */
@Command(name = "diag", mixinStandardHelpOptions = true, description = "Diagnostics for a technician.",
        subcommands = {DiagCollectCommand.class})
final class DiagCommand extends DeviceCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (collect)");
    }
}
