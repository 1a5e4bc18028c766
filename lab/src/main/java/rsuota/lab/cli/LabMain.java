package rsuota.lab.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import rsuota.lab.report.HtmlReport;
import rsuota.lab.report.ReportJson;
import rsuota.lab.report.TerminalView;
import rsuota.lab.report.TextReport;
import rsuota.lab.run.LabRun;
import rsuota.lab.run.RunReport;
import rsuota.lab.scenario.Scenario;
import rsuota.lab.scenario.ScenarioException;
import rsuota.lab.scenario.ScenarioFile;

/**
 * {@code scripts/lab}: with no arguments the staged-rollout demo; {@code run SCENARIO} any scenario
 * file; {@code list} the bundled ones. Exit codes: 0 every expectation held, 1 some did not,
 * 2 usage or a bad scenario file, 3 the lab itself could not start.
 */
@Command(name = "lab", mixinStandardHelpOptions = true, version = "rsu-ota lab 0.1.0", sortOptions = false,
        description = {"The RSU OTA lab: a real fleet controller, a simulated fleet of real agents, a network-fault proxy per unit, "
                + "and scenario files that say what happens and what must hold.",
                "", "With no command: the demo (12 units, release 2.0 completes, release 2.1 degrades in the pilot, pauses by itself "
                + "and is rolled back), with a live view and lab-out/lab-report.html at the end."},
        subcommands = {LabMain.Run.class, LabMain.ListScenarios.class, LabMain.Html.class, CommandLine.HelpCommand.class},
        footer = {"", "Scenario format: docs/lab.md. Logs of the controller, broker and agents: OUT/lab.log."})
public final class LabMain implements Callable<Integer> {
    static final int PASSED = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int LAB_BROKEN = 3;

    @CommandLine.Mixin Common common = new Common();

    /** Options of the demo and of run. */
    static final class Common {
        @Option(names = "--broker", description = "use a real Mosquitto (Debian package mosquitto) instead of the embedded broker")
        boolean mosquitto;

        @Option(names = "--out", paramLabel = "DIR", description = "where work directories, lab.log and the demo's report go (default: lab-out in the repository)")
        Path out;

        @Option(names = "--plain", description = "print one line per event instead of redrawing a live screen (automatic when stdout is not a terminal)")
        boolean plain;

        Path out() {
            if (out != null) return out;
            String p = System.getProperty("rsuota.lab.out");
            return Path.of(p != null ? p : "lab-out");
        }
    }

    public static void main(String[] args) {
        // Before anything logs: the lab's own logging (to a file; the terminal belongs to the view).
        if (System.getProperty("logback.configurationFile") == null) System.setProperty("logback.configurationFile", "rsuota-lab-logback.xml");
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        CommandLine cl = new CommandLine(new LabMain());
        cl.setOut(out);
        cl.setErr(err);
        System.exit(cl.execute(args));
    }

    /** The demo: bundled scenario "demo", report as OUT/lab-report.html and OUT/lab-report.json. */
    @Override
    public Integer call() {
        Path out = common.out().toAbsolutePath();
        return execute("demo", common, out, "lab-report");
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Run one scenario (a bundled name or a .json file); exit 1 if its expectations fail.")
    static final class Run implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "SCENARIO", description = "bundled name (see 'list') or path of a scenario file")
        String scenario;

        @Option(names = "--report", paramLabel = "DIR", description = "write report.json and report.html into DIR")
        Path report;

        @CommandLine.Mixin Common common = new Common();

        @Override
        public Integer call() {
            return execute(scenario, common, report == null ? null : report.toAbsolutePath(), "report");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the bundled scenarios.")
    static final class ListScenarios implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            for (String name : ScenarioFile.BUNDLED) {
                try {
                    Scenario s = ScenarioFile.load(name);
                    out.printf("%-22s %s%n", name, s.title());
                } catch (ScenarioException e) {
                    out.printf("%-22s (broken: %s)%n", name, e.getMessage());
                }
            }
            return PASSED;
        }
    }

    @Command(name = "html", mixinStandardHelpOptions = true, description = "Draw the HTML page of a report.json again (next to it, or -o FILE).")
    static final class Html implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "REPORT.json") Path json;
        @Option(names = "-o", paramLabel = "FILE", description = "the page to write (default: REPORT.html beside the json)") Path html;

        @Override
        public Integer call() {
            Path target = html != null ? html : json.resolveSibling(json.getFileName().toString().replaceFirst("\\.json$", "") + ".html");
            try {
                HtmlReport.write(ReportJson.read(json), target);
            } catch (IOException e) {
                spec.commandLine().getErr().println("lab: cannot draw " + json + ": " + e.getMessage());
                return USAGE;
            }
            spec.commandLine().getOut().println("report: " + target.toAbsolutePath());
            return PASSED;
        }
    }

    /**
     * @param reportDir where the report goes (null: the terminal only)
     * @param base      report file names without extension
     */
    static int execute(String name, Common common, Path reportDir, String base) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        Scenario scenario;
        try {
            scenario = ScenarioFile.load(name);
        } catch (ScenarioException e) {
            err.println("lab: " + e.getMessage());
            return USAGE;
        }
        Path outDir = common.out().toAbsolutePath();
        Path work = outDir.resolve("work").resolve(scenario.name());
        Path log = outDir.resolve("lab.log");
        try {
            Files.createDirectories(outDir);
            clear(work);
            if (reportDir != null) Files.createDirectories(reportDir);
        } catch (IOException e) {
            err.println("lab: " + e.getMessage());
            return LAB_BROKEN;
        }
        System.setProperty("rsuota.lab.log", log.toString());
        boolean terminal = System.console() != null && !common.plain && !"dumb".equals(System.getenv("TERM"));
        TerminalView view = new TerminalView(out, terminal, terminal);
        if (!terminal) out.println("lab: " + scenario.title() + " (plain log; the controller's, broker's and agents' logs are in " + log + ")");
        RunReport report;
        try {
            report = LabRun.run(scenario, new LabRun.Options(work, common.mosquitto, view));
        } catch (IOException | RuntimeException e) {
            view.finish();
            err.println("lab: the lab could not run " + scenario.name() + ": " + e.getMessage());
            err.println("lab: see " + log);
            return LAB_BROKEN;
        }
        view.finish();
        TextReport.print(report, out, terminal);
        if (reportDir != null) {
            try {
                Path json = reportDir.resolve(base + ".json");
                Path html = reportDir.resolve(base + ".html");
                ReportJson.write(report, json);
                HtmlReport.write(report, html);
                out.println();
                out.println("report: " + html);
                out.println("data:   " + json);
            } catch (IOException e) {
                err.println("lab: cannot write the report into " + reportDir + ": " + e.getMessage());
                return LAB_BROKEN;
            }
        }
        out.println("logs:   " + log);
        out.flush();
        return report.passed() ? PASSED : FAILED;
    }

    /** Removes a previous run's work directory, and only one the lab made (it carries the marker). */
    static void clear(Path work) throws IOException {
        if (!Files.exists(work)) return;
        if (!Files.exists(work.resolve(LabRun.WORK_MARKER))) {
            throw new IOException(work + " exists and was not made by the lab (no " + LabRun.WORK_MARKER + "); move it away or pass --out");
        }
        try (Stream<Path> all = Files.walk(work)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
