package rsuota.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The maintainer scripts through dpkg, in a throwaway root (`dpkg --root --force-script-chrootless`):
 * install creates the accounts, directories and enablement; an upgrade keeps an edited conffile
 * (silently when the packaged one did not change, with --force-confold and a .dpkg-dist when it
 * did); remove keeps configuration and state; purge deletes the state. And this machine is not touched.
 *
 * What it cannot prove (docs/packaging.md): that systemd starts, stops and restarts the service
 * (in a DPKG_ROOT install the scripts start nothing, by design; MaintainerScriptsOnSystemdTest
 * covers those calls), nor that the units' sandboxing works at run time.
 */
class InstallUpgradeRemovePurgeTest {

    static final BuiltPackages BUILT = BuiltPackages.fromBuild();
    static final String WANTS = "/etc/systemd/system/multi-user.target.wants/";

    @TempDir
    Path tmp;
    ThrowawayRoot root;
    HostSnapshot hostBefore;

    /** What a leak of the scripts onto this machine would change. */
    record HostSnapshot(boolean agentUser, boolean controllerUser, boolean agentState, boolean controllerState, boolean agentWants,
                        boolean controllerWants) {
        static HostSnapshot take() {
            return new HostSnapshot(Command.run("getent", "passwd", "rsu-agent").exit() == 0,
                    Command.run("getent", "passwd", "fleet-controller").exit() == 0,
                    Files.exists(Path.of("/var/lib/rsu-agent")), Files.exists(Path.of("/var/lib/fleet-controller")),
                    Files.exists(Path.of(WANTS + "rsu-agent.service")), Files.exists(Path.of(WANTS + "fleet-controller.service")));
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        assertTrue(Command.root(), "dpkg --root installs root-owned files: run the tests as root (scripts/test does)");
        assertTrue(Command.available("systemd-sysusers") && Command.available("deb-systemd-helper"),
                "systemd and init-system-helpers are needed for the DPKG_ROOT install");
        root = ThrowawayRoot.chrootless(tmp.resolve("root"));
        hostBefore = HostSnapshot.take();
    }

    @Test
    void agentInstallUpgradeWithEditedConffileRemoveKeepsStatePurgeDeletesIt() throws IOException {
        BuiltPackages.Deb agent = BUILT.agent();

        // --- install
        root.dpkg("-i", agent.file().toString()).ok();
        assertThat(root.status("rsu-agent")).isEqualTo("install ok installed");
        int agentUid = root.uid("rsu-agent");
        int techGid = root.gid("rsu-tech");
        assertThat(agentUid).as("a system account").isLessThan(1000);
        assertThat(root.gid("rsu-agent")).isLessThan(1000);
        assertThat(root.members("disk")).contains("rsu-agent");
        assertThat(root.members("systemd-journal")).contains("rsu-agent");
        assertThat(BuiltPackages.read(root.path("/etc/passwd"))).containsPattern("(?m)^rsu-agent:x:\\d+:\\d+:[^:]*:/var/lib/rsu-agent:/usr/sbin/nologin$");
        assertThat(root.ownership("/var/lib/rsu-agent")).isEqualTo(new ThrowawayRoot.Ownership(agentUid, techGid, "2750"));
        assertThat(root.ownership("/run/rsu-agent")).isEqualTo(new ThrowawayRoot.Ownership(agentUid, techGid, "2750"));
        assertThat(root.ownership("/var/cache/rsu-agent")).isEqualTo(new ThrowawayRoot.Ownership(agentUid, root.gid("rsu-agent"), "755"));
        assertThat(Files.readSymbolicLink(root.path(WANTS + "rsu-agent.service"))).isEqualTo(Path.of("/lib/systemd/system/rsu-agent.service"));
        assertThat(root.ownership("/etc/rsu-agent/agent.conf")).isEqualTo(new ThrowawayRoot.Ownership(0, 0, "644"));

        // --- the box is used: a technician edits the config, the agent writes state and a CDS archive
        Path conf = root.path("/etc/rsu-agent/agent.conf");
        String edited = BuiltPackages.read(conf).replace("#device.id=rsu-0001", "device.id=rsu-0042");
        Files.writeString(conf, edited);
        Files.writeString(root.path("/var/lib/rsu-agent/state.json"), "{\"state\":\"verified\"}");
        Files.writeString(root.path("/var/cache/rsu-agent/cli.jsa"), "stale archive of 0.1.0");

        // --- upgrade, packaged conffile unchanged: the edit stays, dpkg does not even ask (stdin is /dev/null)
        Path v011 = ThrowawayRoot.repack(agent.file(), "0.1.1", tmp, tree -> { });
        root.dpkg("-i", v011.toString()).ok();
        assertThat(root.version("rsu-agent")).isEqualTo("0.1.1");
        assertThat(conf).hasContent(edited);
        assertThat(root.exists("/etc/rsu-agent/agent.conf.dpkg-dist")).isFalse();
        assertThat(root.path("/var/lib/rsu-agent/state.json")).hasContent("{\"state\":\"verified\"}");
        assertThat(root.exists("/var/cache/rsu-agent/cli.jsa")).as("archives of old jars are dropped").isFalse();
        assertThat(root.uid("rsu-agent")).as("accounts are reused, not recreated").isEqualTo(agentUid);
        assertThat(root.ownership("/var/lib/rsu-agent")).isEqualTo(new ThrowawayRoot.Ownership(agentUid, techGid, "2750"));

        // --- upgrade, packaged conffile changed too: the administrator's choice (--force-confold) keeps the edit
        Path v012 = ThrowawayRoot.repack(agent.file(), "0.1.2", tmp,
                tree -> Files.writeString(tree.resolve("etc/rsu-agent/agent.conf"), "# new default in 0.1.2\n", java.nio.file.StandardOpenOption.APPEND));
        root.dpkg("--force-confold", "-i", v012.toString()).ok();
        assertThat(root.version("rsu-agent")).isEqualTo("0.1.2");
        assertThat(conf).hasContent(edited);
        assertThat(BuiltPackages.read(root.path("/etc/rsu-agent/agent.conf.dpkg-dist"))).endsWith("# new default in 0.1.2\n");

        // --- remove: program gone, configuration and state kept, unit masked like dh_installsystemd does
        root.dpkg("-r", "rsu-agent").ok();
        assertThat(root.status("rsu-agent")).isEqualTo("deinstall ok config-files");
        assertThat(root.exists("/usr/bin/rsu-agent")).isFalse();
        assertThat(root.exists("/usr/share/rsu-agent/lib")).isFalse();
        assertThat(root.exists("/lib/systemd/system/rsu-agent.service")).isFalse();
        assertThat(conf).hasContent(edited);
        assertThat(root.path("/var/lib/rsu-agent/state.json")).hasContent("{\"state\":\"verified\"}");
        assertThat(Files.readSymbolicLink(root.path("/etc/systemd/system/rsu-agent.service"))).isEqualTo(Path.of("/dev/null"));

        // --- purge: state, cache, runtime dir, configuration and enablement gone; accounts stay
        root.dpkg("-P", "rsu-agent").ok();
        assertThat(root.status("rsu-agent")).isEmpty();
        for (String gone : List.of("/var/lib/rsu-agent", "/var/cache/rsu-agent", "/run/rsu-agent", "/etc/rsu-agent/agent.conf",
                "/etc/rsu-agent/logging.properties", WANTS + "rsu-agent.service", "/etc/systemd/system/rsu-agent.service",
                "/var/lib/systemd/deb-systemd-helper-enabled/rsu-agent.service.dsh-also")) {
            assertThat(root.exists(gone)).as(gone + " after purge").isFalse();
        }
        assertThat(root.uid("rsu-agent")).isEqualTo(agentUid);

        assertThat(HostSnapshot.take()).as("this machine is untouched").isEqualTo(hostBefore);
    }

    @Test
    void controllerInstallRemoveKeepsStorePurgeDeletesIt() throws IOException {
        BuiltPackages.Deb controller = BUILT.controller();
        root.dpkg("-i", controller.file().toString()).ok();
        int uid = root.uid("fleet-controller");
        assertThat(uid).isLessThan(1000);
        assertThat(root.ownership("/var/lib/fleet-controller")).isEqualTo(new ThrowawayRoot.Ownership(uid, root.gid("fleet-controller"), "750"));
        assertThat(Files.readSymbolicLink(root.path(WANTS + "fleet-controller.service")))
                .isEqualTo(Path.of("/lib/systemd/system/fleet-controller.service"));
        assertThat(root.exists("/var/lib/fleet-controller/fleet.db")).as("init is the administrator's step").isFalse();

        Path defaults = root.path("/etc/default/fleet-controller");
        String edited = BuiltPackages.read(defaults).replace("--host 127.0.0.1", "--host 0.0.0.0");
        Files.writeString(defaults, edited);
        Files.writeString(root.path("/var/lib/fleet-controller/fleet.db"), "store");

        Path v011 = ThrowawayRoot.repack(controller.file(), "0.1.1", tmp, tree -> { });
        root.dpkg("-i", v011.toString()).ok();
        assertThat(defaults).hasContent(edited);
        assertThat(root.path("/var/lib/fleet-controller/fleet.db")).hasContent("store");

        root.dpkg("-r", "fleet-controller").ok();
        assertThat(root.exists("/usr/bin/fleetctl")).isFalse();
        assertThat(root.path("/var/lib/fleet-controller/fleet.db")).hasContent("store");
        assertThat(defaults).hasContent(edited);

        root.dpkg("-P", "fleet-controller").ok();
        assertThat(root.exists("/var/lib/fleet-controller")).isFalse();
        assertThat(root.exists("/etc/default/fleet-controller")).isFalse();
        assertThat(root.exists(WANTS + "fleet-controller.service")).isFalse();

        assertThat(HostSnapshot.take()).as("this machine is untouched").isEqualTo(hostBefore);
    }

    @Test
    void bothPackagesInstallSideBySide() {
        root.dpkg("-i", BUILT.agent().file().toString(), BUILT.controller().file().toString()).ok();
        assertThat(root.status("rsu-agent")).isEqualTo("install ok installed");
        assertThat(root.status("fleet-controller")).isEqualTo("install ok installed");
        assertThat(root.uid("rsu-agent")).isNotEqualTo(root.uid("fleet-controller"));
    }
}
