package rsuota.cli;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/**
 * One exit status of a command-line tool and what it means. The four tools ({@code rsu-agent},
 * {@code rsu-bundle}, {@code fleetctl}, {@code fleet-controller}) share one convention so a script reads them alike:
 * {@value #OK} success, {@value #INTERNAL} internal error (a bug, or nothing more specific fits),
 * {@value #USAGE} bad command line (picocli's own code), and 3 upwards for the failures each tool
 * tells apart. Numbers above 2 are per tool (they were released that way and scripts test them), so
 * each tool lists its own in its {@code --help} footer, generated from its table by
 * {@link #document} so the footer cannot drift from the codes the tool returns.
 *
 * <p>Lives in agent-protocol because every tool depends on it and on nothing else in common.
 */
public interface ExitStatus {
    int OK = 0;
    int INTERNAL = 1;
    int USAGE = 2;

    /** The process exit status. */
    int code();

    /** One line for the --help footer. */
    String meaning();

    /** A status of a tool that keeps its codes as int constants (fleetctl: they are public API). */
    static ExitStatus of(int code, String meaning) {
        return new Listed(code, meaning);
    }

    record Listed(int code, String meaning) implements ExitStatus {}

    /**
     * Sets the {@code --help} footer of {@code cl} and of every subcommand below it to list every
     * status, in numeric order: {@code fleetctl token create --help} shows the same table as
     * {@code fleetctl --help}, and man pages generated from the model carry it on every page.
     */
    static void document(CommandLine cl, List<? extends ExitStatus> statuses) {
        Map<String, String> list = new LinkedHashMap<>();
        statuses.stream().sorted(Comparator.comparingInt(ExitStatus::code))
                .forEach(s -> list.put(rightAligned(s.code()), s.meaning()));
        footer(cl, list, 0);
    }

    /**
     * The code right-aligned in three columns, as {@code %3d} would print it; without {@link String#format}, whose
     * locale lookup loads the names of ~1,000 locales on every command (~1 MiB of a unit's memory).
     */
    static String rightAligned(int code) {
        String s = Integer.toString(code);
        return "   ".substring(Math.min(3, s.length())) + s;
    }

    private static void footer(CommandLine cl, Map<String, String> list, int depth) {
        // our trees are three levels deep; the bound only guards against a model that contains itself
        if (depth > 8) throw new IllegalStateException("command tree deeper than 8 levels at " + cl.getCommandName());
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(list);
        for (CommandLine sub : cl.getSubcommands().values()) footer(sub, list, depth + 1);
    }
}
