package rsuota.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import rsuota.agent.AgentExit;
import rsuota.fixtures.pki.TestPki;

/**
 * The control socket serves root and the control group only, checked twice: the socket file's mode
 * (0660, the group) and the daemon's own look at the peer's credentials. The CLI runs as other Unix
 * users through setpriv (tests run as root here and in CI); a throwaway group and member are
 * created for the test and removed after it.
 */
class ControlSocketPermissionTest {
    static final String GROUP = "rsutest18";
    static final String MEMBER = "rsutech18";
    static Path dir;
    static Path classpath;
    static Path conf;
    static DaemonProcess daemon;
    static boolean createdGroup;
    static boolean createdUser;

    record Run(int code, String out) {}

    @BeforeAll
    static void unitAndUsers() throws Exception {
        assertThat(System.getProperty("user.name")).as("these tests switch users: run as root (as scripts/test and CI do)").isEqualTo("root");
        if (run("getent", "group", GROUP) != 0) {
            assertThat(run("groupadd", GROUP)).isZero();
            createdGroup = true;
        }
        if (run("getent", "passwd", MEMBER) != 0) {
            assertThat(run("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "-G", GROUP, MEMBER)).isZero();
            createdUser = true;
        }
        // Everything the other users' JVMs read must be readable by them: /root and JUnit's temp dirs are not.
        dir = Files.createTempDirectory("rsu-perm");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        classpath = Files.createDirectories(dir.resolve("cp"));
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path src = Path.of(e);
            if (!Files.exists(src)) continue;
            Path dst = classpath.resolve(n++ + "-" + src.getFileName());
            copyTree(src, dst);
            entries.add(dst.toString());
        }
        classpath = Path.of(String.join(java.io.File.pathSeparator, entries));
        Path ca = dir.resolve("ca.pem");
        Files.writeString(ca, TestPki.pem("CERTIFICATE", new TestPki().root.cert().getEncoded()));
        StringWriter o = new StringWriter();
        assertThat(RsuAgent.run(new String[] {"sim-init", dir.resolve("rsu-p").toString(), "--variant", "rsu-a1", "--slot-size", "1MiB",
                "--keyring", ca.toString()}, new PrintWriter(o), new PrintWriter(new StringWriter()))).isZero();
        conf = dir.resolve("rsu-p/agent.conf");
        Files.writeString(conf, "control.group=" + GROUP + "\n", StandardOpenOption.APPEND);
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        daemon = DaemonProcess.start(conf, dir.resolve("rsu-p/control.sock"), dir.resolve("daemon.log"));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (daemon != null) daemon.close();
        if (createdUser) run("userdel", MEMBER);
        if (createdGroup) run("groupdel", GROUP);
        if (dir != null) {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    @Test
    void theSocketFileIsForRootAndTheGroupOnly() throws Exception {
        Path socket = dir.resolve("rsu-p/control.sock");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw----");
        assertThat(Files.readAttributes(socket, java.nio.file.attribute.PosixFileAttributes.class).group().getName()).isEqualTo(GROUP);
    }

    @Test
    void aUserOutsideTheGroupIsRefusedWithAClearMessage() throws Exception {
        Run r = as(List.of("--reuid=nobody", "--regid=nogroup", "--clear-groups"), "status");
        assertThat(r.code()).as(r.out()).isEqualTo(AgentExit.DENIED.code());
        assertThat(r.out()).contains("PERMISSION_DENIED: the running daemon's control socket").contains("usermod -aG rsu-tech nobody");
        Run lock = as(List.of("--reuid=nobody", "--regid=nogroup", "--clear-groups"), "lock", "--reason", "x");
        assertThat(lock.code()).isEqualTo(AgentExit.DENIED.code());
        assertThat(dir.resolve("rsu-p/state/technician.lock")).doesNotExist();
    }

    @Test
    void theDaemonChecksThePeerItselfWhenTheSocketModeWasWidened() throws Exception {
        Path socket = dir.resolve("rsu-p/control.sock");
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        try {
            Run r = as(List.of("--reuid=nobody", "--regid=nogroup", "--clear-groups"), "install", "/nonexistent.rsub");
            assertThat(r.code()).as(r.out()).isEqualTo(AgentExit.DENIED.code());
            assertThat(r.out()).contains("PERMISSION_DENIED: user 'nobody' is not root and not in group '" + GROUP + "'")
                    .contains("usermod -aG " + GROUP + " nobody");
            assertThat(daemon.output()).contains("refused nobody");
        } finally {
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
        }
    }

    @Test
    void aMemberOfTheGroupWorksThroughTheDaemonAndIsNamedInTheLock() throws Exception {
        Run st = as(List.of("--reuid=" + MEMBER, "--regid=nogroup", "--init-groups"), "status", "--json");
        assertThat(st.code()).as(st.out()).isZero();
        assertThat(st.out()).contains("\"daemon\" : true");
        Run lock = as(List.of("--reuid=" + MEMBER, "--regid=nogroup", "--init-groups"), "lock", "--reason", "cabinet open");
        assertThat(lock.code()).as(lock.out()).isZero();
        assertThat(Files.readString(dir.resolve("rsu-p/state/technician.lock"))).contains("\"by\" : \"" + MEMBER + "\"");
        Run unlock = as(List.of("--reuid=" + MEMBER, "--regid=nogroup", "--init-groups"), "unlock");
        assertThat(unlock.out()).contains("unlocked");
    }

    @Test
    void onlyRootOrTheServiceAccountMayNameTheTechnicianItActsFor() throws Exception {
        // The packaged launcher under sudo: root (here) names the sudo user, and the lock is theirs.
        Run lock = asWith(java.util.Map.of("RSU_AGENT_TECHNICIAN", "alice"), List.of("--reuid=0", "--regid=0", "--keep-groups"), "lock", "--reason", "sudo");
        assertThat(lock.code()).as(lock.out()).isZero();
        assertThat(Files.readString(dir.resolve("rsu-p/state/technician.lock"))).contains("\"by\" : \"alice\"");
        assertThat(as(List.of("--reuid=0", "--regid=0", "--keep-groups"), "unlock").out()).contains("unlocked");
        // A member of the group cannot pass as someone else: the kernel's word stands.
        Run member = asWith(java.util.Map.of("RSU_AGENT_TECHNICIAN", "alice"), List.of("--reuid=" + MEMBER, "--regid=nogroup", "--init-groups"),
                "lock", "--reason", "x");
        assertThat(member.code()).as(member.out()).isZero();
        assertThat(Files.readString(dir.resolve("rsu-p/state/technician.lock"))).contains("\"by\" : \"" + MEMBER + "\"").doesNotContain("alice");
        assertThat(as(List.of("--reuid=" + MEMBER, "--regid=nogroup", "--init-groups"), "unlock").out()).contains("unlocked");
    }

    /** rsu-agent as another user: setpriv switches before the JVM starts. */
    static Run as(List<String> who, String... args) throws Exception {
        return asWith(java.util.Map.of(), who, args);
    }

    static Run asWith(java.util.Map<String, String> env, List<String> who, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("setpriv"));
        cmd.addAll(who);
        cmd.addAll(List.of(DaemonProcess.java(), "-cp", classpath.toString(), RsuAgent.class.getName(), "--config", conf.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(dir.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out);
    }

    static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    static void copyTree(Path src, Path dst) throws IOException {
        if (!Files.isDirectory(src)) {
            Files.copy(src, dst);
            return;
        }
        try (Stream<Path> all = Files.walk(src)) {
            for (Path p : all.toList()) {
                Path t = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
    }
}
