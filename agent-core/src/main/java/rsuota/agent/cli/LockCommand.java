package rsuota.agent.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rsuota.agent.AgentExit;
import rsuota.agent.config.AgentConfig;

/** Holds activations while a technician works on the unit. */
@Command(name = "lock", mixinStandardHelpOptions = true, description = "Hold activations on this unit (technician on site).")
final class LockCommand extends DeviceCommand implements Callable<Integer> {
    @Option(names = "--reason", paramLabel = "TEXT", required = true) String reason;

    @Override
    public Integer call() throws Failure {
        AgentConfig c = config();
        try {
            new rsuota.agent.activation.TechnicianLock(c.stateDir()).lock(reason, System.getProperty("user.name"), clock.instant());
        } catch (IOException e) {
            throw new Failure(AgentExit.STATE, "STATE: cannot write the lock: " + e.getMessage());
        }
        spec.commandLine().getOut().println("locked: activations are held until 'rsu-agent unlock' (" + reason + ")");
        return 0;
    }
}
