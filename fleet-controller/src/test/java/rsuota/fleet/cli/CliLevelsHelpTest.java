package rsuota.fleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import rsuota.fixtures.cli.CommandLevels;

/** {@code --help} at every level of fleetctl and fleet-controller, with names for every parameter. */
class CliLevelsHelpTest {

    private static CommandLevels.Run fleetctl(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Fleetctl.execute(args, new PrintWriter(o, true), new PrintWriter(e, true));
        return new CommandLevels.Run(code, o.toString(), e.toString());
    }

    private static CommandLevels.Run controller(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = FleetControllerMain.execute(args, new PrintWriter(o, true), new PrintWriter(e, true));
        return new CommandLevels.Run(code, o.toString(), e.toString());
    }

    @Test
    void everyFleetctlCommandAnswersHelpWithNamedLabels() {
        CommandLine model = new CommandLine(new Fleetctl());
        // the case the issue was filed with
        assertThat(CommandLevels.paths(model)).contains(List.of("token"), List.of("token", "create"), List.of("rollout", "pause"));
        assertThat(CommandLevels.helpProblems(model, CliLevelsHelpTest::fleetctl)).isEmpty();
    }

    @Test
    void everyFleetControllerCommandAnswersHelpWithNamedLabels() {
        CommandLine model = new CommandLine(new FleetControllerMain());
        assertThat(CommandLevels.paths(model)).contains(List.of("run"), List.of("admin-token"));
        assertThat(CommandLevels.helpProblems(model, CliLevelsHelpTest::controller)).isEmpty();
    }

    @Test
    void readmeListsTheExitStatusesOfFleetctlAndFleetController() throws java.io.IOException {
        java.nio.file.Path readme = rsuota.fixtures.cli.ReadmeExitTable.projectReadme();
        assertThat(rsuota.fixtures.cli.ReadmeExitTable.problems(readme, "fleetctl", ExitCodes.FLEETCTL)).isEmpty();
        assertThat(rsuota.fixtures.cli.ReadmeExitTable.problems(readme, "fleet-controller", ExitCodes.FLEET_CONTROLLER)).isEmpty();
    }
}
