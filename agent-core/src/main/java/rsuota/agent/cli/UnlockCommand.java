package rsuota.agent.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import rsuota.agent.AgentExit;
import rsuota.agent.config.AgentConfig;

/** Releases the technician lock. */
@Command(name = "unlock", mixinStandardHelpOptions = true, description = "Release the technician lock.")
final class UnlockCommand extends DeviceCommand implements Callable<Integer> {
    @picocli.CommandLine.Option(names = "--reason", paramLabel = "TEXT", description = "why (reported to the controller with your user name)") String reason;

    @Override
    public Integer call() throws Failure {
        AgentConfig c = config();
        var daemon = daemon(c);
        if (daemon.isPresent()) {
            ask(daemon.get(), "unlock", args("reason", reason), m -> { }).lines().forEach(spec.commandLine().getOut()::println);
            return 0;
        }
        try {
            boolean was = new rsuota.agent.activation.TechnicianLock(c.stateDir()).unlock();
            if (was) reportLocalIfFree(c, "unlock", reason);
            spec.commandLine().getOut().println(was ? "unlocked" : "was not locked");
        } catch (IOException e) {
            throw new Failure(AgentExit.STATE, "STATE: cannot remove the lock: " + e.getMessage());
        }
        return 0;
    }
}
