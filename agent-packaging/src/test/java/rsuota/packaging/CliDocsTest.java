package rsuota.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manual pages and bash completions both packages ship, generated from the picocli models at
 * build time: every command and subcommand the packaged launcher lists in its --help has its page,
 * which `man` renders with the exit-status table; and bash, sourcing the packaged completion script,
 * completes `rsu-agent ins` to `install`.
 */
class CliDocsTest {

    static final BuiltPackages BUILT = BuiltPackages.fromBuild();
    /** Our trees are three levels deep; the bound only guards the walk. */
    static final int MAX_DEPTH = 4;

    @TempDir
    static Path root;

    @BeforeAll
    static void unpack() {
        assertTrue(Command.available("java") && Command.available("man") && Command.available("bash"), "java, man and bash are needed");
        for (BuiltPackages.Deb d : BUILT.both()) Command.run("dpkg-deb", "-x", d.file().toString(), root.toString()).ok();
    }

    /** Runs a packaged launcher from the unpacked root. */
    static Command.Result tool(String name, List<String> args) {
        Map<String, String> env = new HashMap<>(Map.of(
                "RSU_AGENT_HOME", root.resolve("usr/share/rsu-agent").toString(), "RSU_AGENT_NO_CDS", "1",
                "RSU_AGENT_LOG_CONFIG", root.resolve("etc/rsu-agent/logging.properties").toString(),
                "FLEET_CONTROLLER_HOME", root.resolve("usr/share/fleet-controller").toString()));
        List<String> argv = new ArrayList<>(List.of(root.resolve("usr/bin/" + name).toString()));
        argv.addAll(args);
        return Command.run(argv, env);
    }

    /** The subcommand names in picocli's "Commands:" section of a --help text. */
    static List<String> subcommands(String help) {
        List<String> names = new ArrayList<>();
        boolean in = false;
        for (String line : help.split("\n")) {
            if (line.equals("Commands:")) {
                in = true;
            } else if (in && line.isBlank()) {
                break;
            } else if (in && line.matches("  \\S.*")) {
                names.add(line.strip().split("[\\s,]+")[0]);
            }
        }
        return names;
    }

    /** Every command path of {@code name}, as its packaged launcher's --help lists them. */
    static List<List<String>> paths(String name, List<String> path, int depth) {
        assertThat(depth).as("command tree depth").isLessThanOrEqualTo(MAX_DEPTH);
        List<String> args = new ArrayList<>(path);
        args.add("--help");
        Command.Result r = tool(name, args).ok();
        List<List<String>> all = new ArrayList<>(List.of(path));
        for (String sub : subcommands(r.out())) {
            List<String> next = new ArrayList<>(path);
            next.add(sub);
            all.addAll(paths(name, List.copyOf(next), depth + 1));
        }
        return all;
    }

    @Test
    void everyCommandHasAManualPageThatManRenders() {
        Map<String, Integer> pages = new HashMap<>();
        for (String name : List.of("rsu-agent", "fleetctl", "fleet-controller")) {
            List<List<String>> paths = paths(name, List.of(), 0);
            pages.put(name, paths.size());
            for (List<String> path : paths) {
                String page = name + (path.isEmpty() ? "" : "-" + String.join("-", path));
                Path file = root.resolve("usr/share/man/man1/" + page + ".1.gz");
                assertThat(file).as("manual page of '%s %s'", name, String.join(" ", path)).isRegularFile();
                Command.Result man = Command.run(List.of("man", "-l", file.toString()), Map.of("MANWIDTH", "100"));
                assertThat(man.exit()).as(man.toString()).isZero();
                assertThat(man.err()).as(man.toString()).isBlank();
                assertThat(man.out()).as(page).contains("NAME").contains(page + " - ").contains("EXIT CODES");
            }
        }
        assertThat(pages.get("rsu-agent")).as("rsu-agent and its subcommands").isGreaterThanOrEqualTo(14);
        assertThat(pages.get("fleetctl")).as("fleetctl and its subcommands").isGreaterThanOrEqualTo(40);
        assertThat(root.resolve("usr/share/man/man1/rsu-agent-install.1.gz")).isRegularFile();
    }

    @Test
    void eachPackageShipsOnlyItsOwnToolsPagesAndCompletions() throws IOException {
        try (Stream<Path> s = Files.list(root.resolve("usr/share/bash-completion/completions"))) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("fleet-controller", "fleetctl", "rsu-agent");
        }
        assertThat(PackageContentsTest.contents(BUILT.agent().file()).keySet().stream().filter(p -> p.startsWith("/usr/share/man/man1/")))
                .allMatch(p -> p.startsWith("/usr/share/man/man1/rsu-agent"));
        assertThat(PackageContentsTest.contents(BUILT.controller().file()).keySet().stream().filter(p -> p.startsWith("/usr/share/man/man1/")))
                .allMatch(p -> p.startsWith("/usr/share/man/man1/fleet"));
    }

    /** What bash completes for the command line {@code words} (the last word is the one being typed), with the packaged script. */
    static List<String> complete(String tool, String... words) {
        Path script = root.resolve("usr/share/bash-completion/completions/" + tool);
        // A real bash: source the script, find the function `complete -p` registered for the tool, call it
        // as readline would (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT), print COMPREPLY one per line.
        String program = String.join("\n",
                "source \"$1\"; shift",
                "f=$(complete -p \"$1\" | sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p')",
                "[ -n \"$f\" ] || { echo \"no completion function for $1\" >&2; exit 3; }",
                "COMP_WORDS=(\"$@\"); COMP_CWORD=$(( $# - 1 )); COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}",
                "\"$f\" \"$1\" \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\" 2>/dev/null",
                "printf '%s\\n' \"${COMPREPLY[@]}\"");
        List<String> argv = new ArrayList<>(List.of("bash", "--norc", "--noprofile", "-c", program, "complete-test", script.toString()));
        argv.addAll(List.of(words));
        Command.Result r = Command.run(argv, Map.of());
        assertThat(r.exit()).as(r.toString()).isZero();
        return r.out().lines().filter(l -> !l.isEmpty()).toList();
    }

    @Test
    void bashCompletesCommandsSubcommandsAndOptions() {
        assertThat(complete("rsu-agent", "rsu-agent", "ins")).containsExactly("install");
        assertThat(complete("rsu-agent", "rsu-agent", "diag", "c")).containsExactly("collect");
        assertThat(complete("rsu-agent", "rsu-agent", "install", "--down")).containsExactly("--download-only");
        assertThat(complete("rsu-agent", "rsu-agent", "s")).containsExactlyInAnyOrder("sim-init", "status", "slots");
        assertThat(complete("fleetctl", "fleetctl", "tok")).containsExactly("token");
        assertThat(complete("fleetctl", "fleetctl", "rollout", "pa")).containsExactly("pause");
        assertThat(complete("fleet-controller", "fleet-controller", "ad")).containsExactly("admin-token");
    }
}
