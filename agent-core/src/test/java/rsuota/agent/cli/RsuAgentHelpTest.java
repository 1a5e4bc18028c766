package rsuota.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import rsuota.fixtures.cli.CommandLevels;

/** {@code --help} at every level of rsu-agent, with names for every parameter. */
class RsuAgentHelpTest {

    static CommandLevels.Run cli(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = RsuAgent.run(args, new PrintWriter(o, true), new PrintWriter(e, true));
        return new CommandLevels.Run(code, o.toString(), e.toString());
    }

    @Test
    void everyCommandAnswersHelpWithNamedLabels() {
        CommandLine model = new CommandLine(new RsuAgent());
        assertThat(CommandLevels.paths(model)).contains(java.util.List.of("diag", "collect"), java.util.List.of("install"));
        assertThat(CommandLevels.helpProblems(model, RsuAgentHelpTest::cli)).isEmpty();
    }

    @Test
    void readmeListsTheExitStatusesRsuAgentReturns() throws java.io.IOException {
        assertThat(rsuota.fixtures.cli.ReadmeExitTable.problems(rsuota.fixtures.cli.ReadmeExitTable.projectReadme(), "rsu-agent",
                java.util.List.of(rsuota.agent.AgentExit.values()))).isEmpty();
    }
}
