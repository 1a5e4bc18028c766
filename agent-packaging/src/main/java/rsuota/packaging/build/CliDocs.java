package rsuota.packaging.build;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.codegen.docgen.manpage.ManPageGenerator;
import rsuota.cli.ExitStatus;

/**
 * Build step of both packages: the manual pages and the bash completion script of one command line,
 * generated from its picocli model, so they name exactly the commands, options and exit statuses the
 * tool has. The model is built as the tool builds it: its top command plus the exit-status footer
 * ({@link ExitStatus#document}) on every page.
 *
 * <p>Usage: {@code CliDocs OUT_DIR COMMAND_CLASS EXIT_TABLE}, where EXIT_TABLE is an enum that
 * implements {@link ExitStatus} ({@code rsuota.agent.AgentExit}) or {@code CLASS#FIELD}, a static
 * {@code List<ExitStatus>} ({@code rsuota.fleet.cli.ExitCodes#FLEETCTL}). Writes
 * {@code OUT_DIR/adoc/NAME[-SUB...].adoc}, one AsciiDoc manual page per command and subcommand
 * (picocli-codegen's {@link ManPageGenerator}; asciidoctor's manpage backend turns them into
 * troff), and {@code OUT_DIR/completion/NAME} ({@link AutoComplete#bash}). Runs with the tool's own
 * runtime classpath.
 */
public final class CliDocs {
    private CliDocs() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: CliDocs OUT_DIR COMMAND_CLASS EXIT_TABLE");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        CommandLine cl = new CommandLine(Class.forName(args[1]).getDeclaredConstructor().newInstance());
        ExitStatus.document(cl, exitTable(args[2]));
        Path adoc = Files.createDirectories(out.resolve("adoc"));
        int rc = ManPageGenerator.generateManPage(adoc.toFile(), (File) null, new boolean[0], true, cl.getCommandSpec());
        if (rc != 0) throw new IllegalStateException("ManPageGenerator exited " + rc + " for " + args[1]);
        Path completion = Files.createDirectories(out.resolve("completion")).resolve(cl.getCommandName());
        String script = AutoComplete.bash(cl.getCommandName(), cl);
        // bash-completion sources the file, it never runs it: no #! line (lintian: bash-completion-with-hashbang).
        if (script.startsWith("#!")) script = script.substring(script.indexOf('\n') + 1);
        Files.writeString(completion, script, StandardCharsets.UTF_8);
    }

    /** The exit statuses named by EXIT_TABLE (see the class comment). */
    @SuppressWarnings("unchecked")
    static List<? extends ExitStatus> exitTable(String spec) throws ReflectiveOperationException {
        int hash = spec.indexOf('#');
        if (hash < 0) {
            Class<?> c = Class.forName(spec);
            if (!c.isEnum() || !ExitStatus.class.isAssignableFrom(c)) {
                throw new IllegalArgumentException(spec + " is not an enum implementing " + ExitStatus.class.getName());
            }
            return Arrays.asList((ExitStatus[]) c.getEnumConstants());
        }
        Field f = Class.forName(spec.substring(0, hash)).getField(spec.substring(hash + 1));
        return (List<? extends ExitStatus>) f.get(null);
    }
}
