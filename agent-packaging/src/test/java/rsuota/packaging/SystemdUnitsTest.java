package rsuota.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The units as installed: both packages unpacked into one temporary root (so ExecStart's launcher
 * exists there), next to this machine's own systemd units (so Wants= and After= resolve), then
 * `systemd-analyze verify --root` and `systemd-analyze security --offline=true --root`. Neither needs
 * systemd running as PID 1.
 */
class SystemdUnitsTest {

    static final BuiltPackages BUILT = BuiltPackages.fromBuild();

    @TempDir
    static Path root;

    @BeforeAll
    static void unpack() throws IOException {
        assertTrue(Command.available("systemd-analyze"), "systemd-analyze is not installed (scripts/test installs systemd)");
        for (BuiltPackages.Deb d : BUILT.both()) Command.run("dpkg-deb", "-x", d.file().toString(), root.toString()).ok();
        Path units = root.resolve("lib/systemd/system");
        try (Stream<Path> s = Files.list(Path.of("/lib/systemd/system"))) {
            for (Path p : s.toList()) {
                Path to = units.resolve(p.getFileName());
                if (!Files.exists(to, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Files.copy(p, to, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    @Test
    void verifyPassesWithoutAWord() {
        for (BuiltPackages.Deb d : BUILT.both()) {
            for (String unit : d.units()) {
                Command.Result r = Command.run("systemd-analyze", "verify", "--root=" + root, "--man=false", unit);
                assertThat(r.exit()).as(r.toString()).isZero();
                // Unknown keys and bad values are only warnings with exit 0: any output is a failure here.
                assertThat(r.err() + r.out()).as(r.toString()).isBlank();
            }
        }
    }

    /**
     * The agent's failure path: OnFailure= names a unit of the same package (verify says nothing of
     * an OnFailure= unit that does not exist, hence the explicit check), and that unit's ExecStart is
     * the packaged script (verify fails when it is missing).
     */
    @Test
    void theAgentFailsOverToTheFallbackUnitAndItsScript() throws IOException {
        Path units = root.resolve("lib/systemd/system");
        String agent = Files.readString(units.resolve("rsu-agent.service"));
        assertThat(agent).containsPattern("(?m)^StartLimitIntervalSec=").containsPattern("(?m)^StartLimitBurst=");
        Matcher onFailure = Pattern.compile("(?m)^OnFailure=(\\S+)$").matcher(agent);
        assertThat(onFailure.find()).as("rsu-agent.service has OnFailure=").isTrue();
        assertThat(BUILT.agent().otherUnits()).contains(onFailure.group(1));
        assertThat(units.resolve(onFailure.group(1))).isRegularFile();
        String fallback = Files.readString(units.resolve(onFailure.group(1)));
        assertThat(fallback).contains("ExecStart=/usr/lib/rsu-agent/rsu-agent-fallback --config /etc/rsu-agent/agent.conf")
                .doesNotContainPattern("(?m)^\\[Install\\]");
        assertThat(root.resolve("usr/lib/rsu-agent/rsu-agent-fallback")).isExecutable();
        Files.writeString(units.resolve("broken-fallback.service"), fallback.replace("/usr/lib/rsu-agent/rsu-agent-fallback",
                "/usr/lib/rsu-agent/rsu-agent-fallbak"));
        Command.Result missingScript = Command.run("systemd-analyze", "verify", "--root=" + root, "--man=false", "broken-fallback.service");
        assertThat(missingScript.exit()).as(missingScript.toString()).isNotZero();
    }

    /**
     * The start limit must catch the slowest failing start too: 5 starts that each hang until
     * TimeoutStartSec= (plus RestartSec= between them) must fit into StartLimitIntervalSec=, else the
     * window slides on, the agent restarts forever and OnFailure= never runs.
     */
    @Test
    void fiveStartsThatHangUntilTheirTimeoutStillReachTheStartLimit() throws IOException {
        String agent = Files.readString(root.resolve("lib/systemd/system/rsu-agent.service"));
        long interval = seconds(setting(agent, "StartLimitIntervalSec"));
        long burst = Long.parseLong(setting(agent, "StartLimitBurst"));
        long cycle = seconds(setting(agent, "TimeoutStartSec")) + seconds(setting(agent, "RestartSec"));
        assertThat(interval).as("StartLimitIntervalSec vs %d starts of %d s", burst, cycle).isGreaterThan(burst * cycle);
    }

    static String setting(String unit, String key) {
        Matcher m = Pattern.compile("(?m)^" + key + "=(\\S+)$").matcher(unit);
        assertThat(m.find()).as(key + "= in the unit").isTrue();
        return m.group(1);
    }

    /** systemd time spans as the units write them: 90s, 30min, 2h. */
    static long seconds(String span) {
        Matcher m = Pattern.compile("(\\d+)(s|min|h)").matcher(span);
        assertThat(m.matches()).as("time span " + span).isTrue();
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> n;
            case "min" -> n * 60;
            default -> n * 3600;
        };
    }

    @Test
    void verifyWouldCatchAMissingLauncherAndATypo() throws IOException {
        Path units = root.resolve("lib/systemd/system");
        String agent = Files.readString(units.resolve("rsu-agent.service"));
        Files.writeString(units.resolve("broken-exec.service"), agent.replace("ExecStart=/usr/bin/rsu-agent", "ExecStart=/usr/bin/rsu-agnet"));
        Files.writeString(units.resolve("broken-key.service"), agent.replace("ProtectSystem=strict", "ProtectSytem=strict"));
        assertThat(Command.run("systemd-analyze", "verify", "--root=" + root, "--man=false", "broken-exec.service").exit()).isNotZero();
        assertThat(Command.run("systemd-analyze", "verify", "--root=" + root, "--man=false", "broken-key.service").err())
                .contains("Unknown key");
    }

    /**
     * The download makes its threads SCHED_IDLE (download.cpuPolicy=idle): the syscall filter denies @resources, so
     * sched_setscheduler must be allowed again after that denial, and realtime policies stay forbidden.
     */
    @Test
    void theSyscallFilterLetsDownloadThreadsMakeThemselvesIdleButNotRealtime() throws IOException {
        String agent = Files.readString(root.resolve("lib/systemd/system/rsu-agent.service"));
        java.util.List<String> filters = Pattern.compile("(?m)^SystemCallFilter=(.*)$").matcher(agent).results().map(r -> r.group(1).trim()).toList();
        int deny = filters.indexOf("~@privileged @resources");
        assertThat(deny).as("@resources denied: " + filters).isNotNegative();
        assertThat(filters.subList(deny + 1, filters.size())).as("allowed again after the denial").contains("sched_setscheduler");
        assertThat(setting(agent, "RestrictRealtime")).isEqualTo("yes");
    }

    /** "Overall exposure level for rsu-agent.service: 1.7 OK" */
    static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for \\S+: (\\d+\\.\\d) (\\S+)");

    @Test
    void securityScoreIsTheOneRecordedInTheDocs() {
        String doc = BuiltPackages.read(BuiltPackages.projectRoot().resolve("docs/packaging.md"));
        for (String unit : BUILT.both().stream().flatMap(d -> d.units().stream()).toList()) {
            Command.Result r = Command.run("systemd-analyze", "security", "--offline=true", "--root=" + root, unit);
            Matcher m = EXPOSURE.matcher(r.out() + r.err());
            assertThat(m.find()).as(r.toString()).isTrue();
            double score = Double.parseDouble(m.group(1));
            assertThat(score).as(unit + " exposure").isLessThanOrEqualTo(2.5);
            // docs/packaging.md has a row "| rsu-agent.service | 1.7 | OK |": change the unit, update the row.
            assertThat(doc).as("docs/packaging.md records " + unit + " at " + m.group(1))
                    .containsPattern("\\| `?" + Pattern.quote(unit) + "`? \\| " + Pattern.quote(m.group(1)) + " \\| " + m.group(2) + " \\|");
        }
    }
}
