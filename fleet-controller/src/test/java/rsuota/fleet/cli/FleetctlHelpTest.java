package rsuota.fleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import rsuota.cli.ExitStatus;

/** The --help footers list every exit code, and every code in ExitCodes is listed by a command. */
class FleetctlHelpTest {

    private static String help(boolean controller) {
        StringWriter out = new StringWriter();
        PrintWriter o = new PrintWriter(out, true);
        PrintWriter e = new PrintWriter(new StringWriter(), true);
        int code = controller ? FleetControllerMain.execute(new String[] {"--help"}, o, e) : Fleetctl.execute(new String[] {"--help"}, o, e);
        assertThat(code).isZero();
        // picocli wraps long meanings; compare with the whitespace folded
        return out.toString().replaceAll("\\s+", " ");
    }

    @Test
    void fleetctlHelpListsEveryCodeItReturns() {
        String help = help(false);
        for (ExitStatus s : ExitCodes.FLEETCTL) assertThat(help).contains(" " + s.code() + " " + s.meaning() + " ");
    }

    @Test
    void fleetControllerHelpListsEveryCodeItReturns() {
        String help = help(true);
        for (ExitStatus s : ExitCodes.FLEET_CONTROLLER) assertThat(help).contains(" " + s.code() + " " + s.meaning() + " ");
    }

    @Test
    void everyExitCodeConstantIsDocumented() throws IllegalAccessException {
        List<Integer> listed = Stream.concat(ExitCodes.FLEETCTL.stream(), ExitCodes.FLEET_CONTROLLER.stream()).map(ExitStatus::code).toList();
        for (Field f : Arrays.stream(ExitCodes.class.getFields()).filter(f -> f.getType() == int.class
                && Modifier.isStatic(f.getModifiers())).toList()) {
            assertThat(listed).as(f.getName()).contains(f.getInt(null));
        }
    }
}
