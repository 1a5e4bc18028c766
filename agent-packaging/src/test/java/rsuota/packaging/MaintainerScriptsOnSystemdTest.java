package rsuota.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scripts' calls on a machine that runs systemd, which a DPKG_ROOT install cannot show: each
 * script runs in a private mount namespace where /run/systemd/system exists (so it believes systemd
 * is PID 1) and /run, /var/lib and /var/cache are empty tmpfs, with Recording fakes of
 * systemd-sysusers, systemd-tmpfiles, systemctl, deb-systemd-helper and deb-systemd-invoke first on
 * PATH. Nothing reaches this machine's systemd or file system.
 */
class MaintainerScriptsOnSystemdTest {

    static final BuiltPackages BUILT = BuiltPackages.fromBuild();
    static final List<String> FAKES = List.of("systemd-sysusers", "systemd-tmpfiles", "systemctl", "deb-systemd-helper", "deb-systemd-invoke");

    @TempDir
    Path tmp;
    Path fakes;
    Path record;
    Path scripts;

    @BeforeEach
    void setUp() throws IOException {
        assertTrue(Command.root(), "a private mount namespace needs root (scripts/test runs as root)");
        assertTrue(Command.run("unshare", "--mount", "true").exit() == 0, "unshare --mount is not permitted here");
        fakes = Files.createDirectories(tmp.resolve("fakes"));
        record = tmp.resolve("calls.log");
        for (String tool : FAKES) {
            Path f = fakes.resolve(tool);
            // Each fake appends its argv to the record; `deb-systemd-helper was-enabled` answers FAKE_WAS_ENABLED (0 = yes).
            Files.writeString(f, "#!/bin/sh\necho \"" + tool + " $*\" >> \"$RECORD\"\n"
                    + "case \"$*\" in *was-enabled*) exit \"${FAKE_WAS_ENABLED:-0}\";; esac\nexit 0\n");
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        scripts = tmp.resolve("control");
        Command.run("dpkg-deb", "--control", BUILT.agent().file().toString(), scripts.toString()).ok();
    }

    /** Runs one maintainer script in the sandbox; returns the calls it made and what stayed of the state. */
    List<String> run(boolean systemdRunning, String wasEnabled, String script, String... args) throws IOException {
        Files.deleteIfExists(record);
        Files.writeString(record, "");
        String sandbox = "set -e; mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /var/lib; mount -t tmpfs tmpfs /var/cache; "
                + (systemdRunning ? "mkdir -p /run/systemd/system; " : "")
                + "mkdir -p /var/lib/rsu-agent /var/cache/rsu-agent /run/rsu-agent; "
                + "echo s > /var/lib/rsu-agent/state.json; echo a > /var/cache/rsu-agent/cli.jsa; "
                + "\"$@\"; for d in /var/lib/rsu-agent /var/cache/rsu-agent/cli.jsa /run/rsu-agent; do "
                + "if [ -e $d ]; then echo \"kept $d\" >> \"$RECORD\"; else echo \"gone $d\" >> \"$RECORD\"; fi; done";
        List<String> argv = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "--", "sh", "-c", sandbox, "sh",
                scripts.resolve(script).toString()));
        argv.addAll(List.of(args));
        Command.run(argv, Map.of("PATH", fakes + ":/usr/sbin:/usr/bin:/sbin:/bin", "RECORD", record.toString(),
                "FAKE_WAS_ENABLED", wasEnabled)).ok();
        return Files.readAllLines(record);
    }

    @Test
    void firstInstallCreatesAccountsAndDirsEnablesAndStarts() throws IOException {
        assertThat(run(true, "0", "postinst", "configure")).containsExactly(
                "systemd-sysusers rsu-agent.conf",
                "systemd-tmpfiles --create rsu-agent.conf",
                "deb-systemd-helper unmask rsu-agent.service",
                "deb-systemd-helper --quiet was-enabled rsu-agent.service",
                "deb-systemd-helper enable rsu-agent.service",
                "systemctl --system daemon-reload",
                "deb-systemd-invoke start rsu-agent.service",
                "kept /var/lib/rsu-agent", "gone /var/cache/rsu-agent/cli.jsa", "kept /run/rsu-agent");
    }

    @Test
    void upgradeStopsBeforeAndStartsAfterAndKeepsADisabledServiceDisabled() throws IOException {
        assertThat(run(true, "0", "prerm", "upgrade", "0.1.1")).startsWith("deb-systemd-invoke stop rsu-agent.service");
        // The administrator had disabled the service: update-state instead of enable (deb-systemd-invoke
        // then does not start a disabled unit either).
        assertThat(run(true, "1", "postinst", "configure", "0.1.0"))
                .contains("deb-systemd-helper update-state rsu-agent.service", "deb-systemd-invoke start rsu-agent.service")
                .doesNotContain("deb-systemd-helper enable rsu-agent.service")
                .contains("kept /var/lib/rsu-agent");
    }

    @Test
    void removeStopsMasksAndKeepsState() throws IOException {
        assertThat(run(true, "0", "prerm", "remove")).startsWith("deb-systemd-invoke stop rsu-agent.service");
        assertThat(run(true, "0", "postrm", "remove")).containsExactly(
                "systemctl --system daemon-reload",
                "deb-systemd-helper mask rsu-agent.service",
                "kept /var/lib/rsu-agent", "kept /var/cache/rsu-agent/cli.jsa", "kept /run/rsu-agent");
    }

    @Test
    void purgeForgetsTheUnitAndDeletesState() throws IOException {
        assertThat(run(true, "0", "postrm", "purge")).containsExactly(
                "deb-systemd-helper purge rsu-agent.service",
                "deb-systemd-helper unmask rsu-agent.service",
                "gone /var/lib/rsu-agent", "gone /var/cache/rsu-agent/cli.jsa", "gone /run/rsu-agent");
    }

    @Test
    void withoutSystemdRunningNothingIsStartedOrStopped() throws IOException {
        assertThat(run(false, "0", "postinst", "configure")).noneMatch(c -> c.startsWith("systemctl") || c.startsWith("deb-systemd-invoke"))
                .contains("deb-systemd-helper enable rsu-agent.service");
        assertThat(run(false, "0", "prerm", "remove")).noneMatch(c -> c.startsWith("deb-systemd-invoke"));
    }
}
