package rsuota.fleet.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.function.ToIntFunction;
import picocli.CommandLine;
import rsuota.cli.ExitStatus;

/**
 * How fleetctl and fleet-controller run one command line: picocli with the tool's exit-code footer,
 * its own failure type printed as "TOOL: message" with its exit code, everything else picocli's.
 */
final class CliRunner {
    private CliRunner() {}

    /** The process entry: logging, UTF-8 streams, exit with the command's code. */
    static void main(Object command, java.util.List<ExitStatus> codes, String tool, Class<? extends Exception> failure,
                     ToIntFunction<Exception> exitOf, String[] args) {
        Logging.configure();
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(execute(command, codes, tool, failure, exitOf, args, out, err));
    }

    static int execute(Object command, java.util.List<ExitStatus> codes, String tool, Class<? extends Exception> failure,
                       ToIntFunction<Exception> exitOf, String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(command);
        ExitStatus.document(cl, codes);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (failure.isInstance(ex)) {
                err.println(tool + ": " + ex.getMessage());
                err.flush();
                return exitOf.applyAsInt(ex);
            }
            throw ex;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }
}
