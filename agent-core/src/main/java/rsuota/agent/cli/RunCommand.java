package rsuota.agent.cli;

import java.io.IOException;
import java.nio.channels.FileLock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import rsuota.agent.config.AgentConfig;
import rsuota.hal.boot.BootControlException;

/** Runs the daemon (the systemd service). */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the agent daemon (systemd service): follows the controller's desired state, reports over MQTT.")
final class RunCommand extends DeviceCommand implements Callable<Integer> {

    @Override
    public Integer call() throws Failure, InterruptedException {
        AgentConfig c = config();
        try (FileLock lock = lockState(c)) {
            rsuota.agent.daemon.AgentDaemon d = new rsuota.agent.daemon.AgentDaemon(c, rsuota.agent.daemon.AgentDaemon.Options.defaults());
            Thread hook = new Thread(d::close, "rsu-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            d.start();
            d.awaitStop();
            boolean reboot = d.engine().rebootRequested();
            d.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down
            }
            spec.commandLine().getOut().println(reboot ? "stopped for a reboot" : "stopped");
            return 0;
        } catch (AgentConfig.ConfigException | IOException | BootControlException e) {
            throw cannotOpen(e);
        }
    }
}
