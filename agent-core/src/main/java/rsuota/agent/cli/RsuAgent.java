package rsuota.agent.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rsuota.agent.AgentException;
import rsuota.agent.AgentExit;
import rsuota.cli.ExitStatus;

/**
 * {@code rsu-agent}: the technician's and the lab's command line (the command contract is stable).
 * Each subcommand is its own class in this package; {@link DeviceCommand} holds what they share.
 * This class owns the top command, the exit statuses ({@link AgentExit}, listed in the --help
 * footer from that table) and the one place failures become exit statuses.
 */
@Command(name = "rsu-agent", mixinStandardHelpOptions = true, version = "rsu-agent 0.1.0",
        description = "RSU OTA device agent: install signed bundles to the inactive A/B slot, show status.",
        footerHeading = "%nFiles and environment:%n",
        footer = {"/etc/rsu-agent/agent.conf (configuration; RSU_AGENT_CONFIG names another default), /etc/rsu-agent/keyring.pem"
                + " (trust anchors), /var/lib/rsu-agent (state), /usr/share/doc/rsu-agent/README.Debian (setup, technicians, board notes).",
                "RSU_AGENT_JAVA_OPTS: extra JVM flags; RSU_AGENT_NO_CDS=1: no class-data-sharing archive."},
        subcommands = {SimInitCommand.class, InstallCommand.class, StatusCommand.class, SlotsCommand.class,
                ActivateCommand.class, RollbackCommand.class, LockCommand.class, UnlockCommand.class, HealthCommand.class,
                RunCommand.class, DiagCommand.class, ConfigCommand.class})
public final class RsuAgent implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "agent configuration file (agent.conf)", scope = CommandLine.ScopeType.INHERIT)
    Path config;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static void main(String[] args) {
        rsuota.agent.logging.Logging.configure();
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new RsuAgent());
        ExitStatus.document(cl, List.of(AgentExit.values()));
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof Failure f) {
                err.println(f.getMessage());
                return f.code;
            }
            // The one place engine failures become exit statuses: the reason code first, on one line.
            if (e instanceof AgentException ae) {
                err.println(ae.getMessage());
                return ae.code().exit().code();
            }
            if (e instanceof IOException io) {
                err.println("STATE: " + io.getMessage());
                return AgentExit.STATE.code();
            }
            err.println("rsu-agent: internal error: " + e);
            e.printStackTrace(err);
            return AgentExit.INTERNAL.code();
        });
        return cl.execute(args);
    }
}
