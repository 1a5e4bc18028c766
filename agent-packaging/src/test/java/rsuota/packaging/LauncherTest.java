package rsuota.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /usr/bin/rsu-agent from the package, run against a simulated device: the default --config, --config
 * before or after the command, clean stdout, and the class-data-sharing archive (written by the first
 * successful run, used by the next, rebuilt when a jar is newer, never kept from a failed run).
 * The package is unpacked into a temporary directory; RSU_AGENT_HOME and RSU_AGENT_CDS_DIR point there.
 */
class LauncherTest {

    static final BuiltPackages BUILT = BuiltPackages.fromBuild();

    @TempDir
    static Path tmp;
    static Path launcher;
    static Path cds;
    static Path device;

    @BeforeAll
    static void unpackAndMakeADevice() throws IOException {
        assertTrue(Command.available("java") && Command.available("openssl"), "java and openssl are needed");
        Path root = tmp.resolve("root");
        Command.run("dpkg-deb", "-x", BUILT.agent().file().toString(), root.toString()).ok();
        launcher = root.resolve("usr/bin/rsu-agent");
        cds = Files.createDirectories(tmp.resolve("cds"));
        Path ca = tmp.resolve("ca.pem");
        Command.run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=test root",
                "-days", "2", "-keyout", tmp.resolve("ca.key").toString(), "-out", ca.toString()).ok();
        device = tmp.resolve("dev1");
        rsuAgent(Map.of(), "sim-init", device.toString(), "--variant", "lab", "--slot-size", "1MiB", "--keyring", ca.toString()).ok();
    }

    static Command.Result rsuAgent(Map<String, String> env, String... args) {
        Map<String, String> e = new HashMap<>(Map.of("RSU_AGENT_HOME", launcher.getParent().getParent().resolve("share/rsu-agent").toString(),
                "RSU_AGENT_CDS_DIR", cds.toString(),
                "RSU_AGENT_LOG_CONFIG", launcher.getParent().getParent().getParent().resolve("etc/rsu-agent/logging.properties").toString()));
        e.putAll(env);
        List<String> argv = new ArrayList<>(List.of(launcher.toString()));
        argv.addAll(List.of(args));
        return Command.run(argv, e);
    }

    /** A box whose logging conffile was deleted still runs its commands, and says once what is missing. */
    @Test
    void aMissingLoggingConffileIsNamedAndTheCommandStillRuns() {
        Command.Result r = rsuAgent(Map.of("RSU_AGENT_LOG_CONFIG", tmp.resolve("gone.properties").toString(), "RSU_AGENT_NO_CDS", "1"),
                "--config", device.resolve("agent.conf").toString(), "status", "--json");
        r.ok();
        assertThat(r.out()).contains("\"state\"");
        assertThat(r.err()).contains("rsu.log.config: no file " + tmp.resolve("gone.properties"));
    }

    @Test
    void configDefaultsToEtcRsuAgent() {
        assertTrue(!Files.exists(Path.of("/etc/rsu-agent/agent.conf")), "this machine has a real /etc/rsu-agent/agent.conf");
        Command.Result r = rsuAgent(Map.of("RSU_AGENT_NO_CDS", "1"), "status");
        assertThat(r.exit()).as(r.toString()).isEqualTo(4);
        assertThat(r.err()).contains("/etc/rsu-agent/agent.conf does not exist");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void configMayComeBeforeOrAfterTheCommand() {
        String conf = device.resolve("agent.conf").toString();
        Command.Result before = rsuAgent(Map.of("RSU_AGENT_NO_CDS", "1"), "--config", conf, "status", "--json").ok();
        Command.Result after = rsuAgent(Map.of("RSU_AGENT_NO_CDS", "1"), "status", "--json", "--config=" + conf).ok();
        assertThat(before.out()).startsWith("{").contains("\"state\" : \"idle\"");
        assertThat(after.out()).isEqualTo(before.out());
        assertThat(before.err()).as("nothing but JSON on stdout, nothing on stderr either").isEmpty();
    }

    @Test
    void firstRunWritesTheArchiveNextRunsMapItANewerJarRebuildsIt() throws IOException {
        Path archive = cds.resolve("cli.jsa");
        Files.deleteIfExists(archive);
        String conf = device.resolve("agent.conf").toString();

        assertThat(rsuAgent(Map.of(), "--config", conf, "slots").ok().err()).as("dumping is quiet").isEmpty();
        assertThat(archive).isRegularFile();
        try (var s = Files.list(cds)) {
            assertThat(s.map(p -> p.getFileName().toString())).as("no temporary archive left").containsExactly("cli.jsa");
        }

        Path log = tmp.resolve("classload.log");
        rsuAgent(Map.of("RSU_AGENT_JAVA_OPTS", "-Xlog:class+load=info:file=" + log), "--config", conf, "status").ok();
        assertThat(BuiltPackages.read(log)).as("agent classes come from the dynamic archive")
                .containsPattern("rsuota\\.agent\\.cli\\.RsuAgent source: shared objects file \\(top\\)");

        FileTime built = Files.getLastModifiedTime(archive);
        Path jar = launcher.getParent().getParent().resolve("share/rsu-agent/lib/agent-core-" + BUILT.version() + ".jar");
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now()));
        rsuAgent(Map.of(), "--config", conf, "status").ok();
        assertThat(Files.getLastModifiedTime(archive)).as("rebuilt after the jar changed").isNotEqualTo(built);
    }

    /**
     * An install runs with its small-heap and small-compilation flags and without class-data sharing (Debian's JDK relocates every
     * page of an archive: more memory than parsing the classes, docs/benchmarks.md), so it neither maps nor
     * writes an archive, even as the first command on the box.
     */
    @Test
    void anInstallRunsWithoutClassDataSharingAndWritesNoArchive() throws IOException {
        Files.deleteIfExists(cds.resolve("cli.jsa"));
        // A device of its own: the refused install leaves it FAILED, which the other tests' device must not be.
        Path own = tmp.resolve("dev-install");
        rsuAgent(Map.of("RSU_AGENT_NO_CDS", "1"), "sim-init", own.toString(), "--variant", "lab", "--slot-size", "1MiB", "--keyring",
                tmp.resolve("ca.pem").toString()).ok();
        Path log = tmp.resolve("install-classload.log");
        Path missing = tmp.resolve("no-such.rsub");
        Command.Result r = rsuAgent(Map.of("RSU_AGENT_JAVA_OPTS", "-Xlog:class+load=info:file=" + log + " -XX:+PrintCommandLineFlags"),
                "--config", own.resolve("agent.conf").toString(), "install", missing.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(3);
        assertThat(r.err()).contains("NOT_FOUND").contains(missing.toString());
        assertThat(r.out()).contains("-XX:MaxHeapFreeRatio=10").contains("-XX:NewSize=1048576").contains("-XX:InitialHeapSize=4194304")
                .contains("-XX:-ShrinkHeapInSteps").contains("-XX:FreqInlineSize=100").contains("-XX:InlineSmallCode=1000")
                .contains("-XX:OnStackReplacePercentage=1000").contains("-XX:StringTableSize=1024").contains("-XX:-UsePerfData");
        assertThat(BuiltPackages.read(log)).contains("rsuota.agent.cli.RsuAgent source:").doesNotContain("shared objects file");
        try (var s = Files.list(cds)) {
            assertThat(s.toList()).as("no archive written or mapped").isEmpty();
        }
    }

    @Test
    void aFailedRunLeavesNoArchive() throws IOException {
        Path archive = cds.resolve("cli.jsa");
        Files.deleteIfExists(archive);
        Command.Result r = rsuAgent(Map.of(), "--config", tmp.resolve("missing.conf").toString(), "status");
        assertThat(r.exit()).isEqualTo(4);
        try (var s = Files.list(cds)) {
            assertThat(s.toList()).isEmpty();
        }
    }

    /**
     * Root running a state-changing command becomes rsu-agent (with its groups and umask 027); a
     * read-only command stays root. In a private mount namespace whose /etc/passwd and /etc/group
     * know rsu-agent, with a fake `java` on PATH that prints who it runs as.
     */
    @Test
    void rootRunsStateChangingCommandsAsTheServiceAccount() throws IOException {
        assertTrue(Command.root() && Command.run("unshare", "--mount", "true").exit() == 0, "needs root and unshare --mount");
        // The re-executed launcher runs as rsu-agent and must reach itself and the fake java.
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path etc = Files.createDirectories(tmp.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), BuiltPackages.read(Path.of("/etc/passwd"))
                + "rsu-agent:x:4242:4242:RSU OTA agent:/var/lib/rsu-agent:/usr/sbin/nologin\n");
        Files.writeString(etc.resolve("group"), BuiltPackages.read(Path.of("/etc/group")).replaceFirst("(?m)^(disk:x:\\d+:)(.*)$", "$1$2,rsu-agent")
                .replace(":,rsu-agent", ":rsu-agent") + "rsu-agent:x:4242:\n");
        Path bin = Files.createDirectories(tmp.resolve("fakebin"));
        Files.writeString(bin.resolve("java"), "#!/bin/sh\necho \"uid=$(id -u) groups=$(id -G) umask=$(umask) home=$HOME\"\n");
        Files.setPosixFilePermissions(bin.resolve("java"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        String sandbox = "mount --bind " + etc.resolve("passwd") + " /etc/passwd && mount --bind " + etc.resolve("group") + " /etc/group && exec \"$@\"";
        Map<String, String> env = Map.of("PATH", bin + ":/usr/sbin:/usr/bin:/sbin:/bin", "RSU_AGENT_NO_CDS", "1",
                "RSU_AGENT_HOME", launcher.getParent().getParent().resolve("share/rsu-agent").toString());
        String disk = Command.run("getent", "group", "disk").ok().out().split(":")[2];

        Command.Result lock = Command.run(List.of("unshare", "--mount", "--propagation", "private", "--", "sh", "-c", sandbox, "sh",
                launcher.toString(), "lock"), env).ok();
        assertThat(lock.out()).contains("uid=4242 ").containsPattern("groups=4242 .*\\b" + disk + "\\b").contains("umask=0027")
                .contains("home=/var/lib/rsu-agent");

        Command.Result status = Command.run(List.of("unshare", "--mount", "--propagation", "private", "--", "sh", "-c", sandbox, "sh",
                launcher.toString(), "status"), env).ok();
        assertThat(status.out()).contains("uid=0 ");
    }

    @Test
    void noJavaOnPathIsExplained() {
        Command.Result r = rsuAgent(Map.of("PATH", "/nonexistent"), "--version");
        // /bin/sh still runs the script by its absolute path; java is what is missing.
        assertThat(r.exit()).isEqualTo(127);
        assertThat(r.err()).contains("no java on PATH");
    }
}
