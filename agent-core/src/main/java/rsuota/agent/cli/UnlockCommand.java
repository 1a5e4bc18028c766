package rsuota.agent.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import rsuota.agent.AgentExit;
import rsuota.agent.config.AgentConfig;

/** Releases the technician lock. */
@Command(name = "unlock", mixinStandardHelpOptions = true, description = "Release the technician lock.")
final class UnlockCommand extends DeviceCommand implements Callable<Integer> {

    @Override
    public Integer call() throws Failure {
        AgentConfig c = config();
        try {
            boolean was = new rsuota.agent.activation.TechnicianLock(c.stateDir()).unlock();
            spec.commandLine().getOut().println(was ? "unlocked" : "was not locked");
        } catch (IOException e) {
            throw new Failure(AgentExit.STATE, "STATE: cannot remove the lock: " + e.getMessage());
        }
        return 0;
    }
}
