package rsuota.agent.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rsuota.agent.AgentException;
import rsuota.agent.update.EngineState;
import rsuota.agent.update.UpdateState;

/** Returns to the previous release on the other slot. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = "Return to the previous release on the other slot (asks for confirmation on a terminal).")
final class RollbackCommand extends DeviceCommand implements Callable<Integer> {
    @Option(names = "--reason", paramLabel = "TEXT", required = true, description = "why (recorded and reported)") String reason;
    @Option(names = "--yes", description = "do not ask for confirmation") boolean yes;

    @Override
    public Integer call() throws Failure, InterruptedException, IOException, AgentException {
        return withEngine((engine, out) -> {
            java.io.Console console = System.console();
            if (!yes && console != null) {
                EngineState st = engine.state();
                String other = st.activation() != null && st.activation().previousSlot() != null ? st.activation().previousSlot() : "the other slot";
                String answer = console.readLine("Roll back to %s and reboot this unit? [y/N] ", other);
                if (answer == null || !answer.trim().equalsIgnoreCase("y")) {
                    out.println("rollback not confirmed; nothing changed");
                    return 0;
                }
            }
            engine.rollback(reason);
            EngineState end = engine.run();
            if (end.state() == UpdateState.ROLLED_BACK && !engine.rebootRequested()) {
                // the new release never ran here: its activation is called off, nothing to reboot
                out.println("rolled back: release " + end.target().release() + " was never activated; this unit keeps running its current release");
                return 0;
            }
            return afterActivationStep(engine, end, out);
        });
    }
}
