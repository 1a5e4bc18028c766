package rsuota.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dpkg chroots into a root that holds only /bin/sh and rm: no systemd-sysusers, systemd-tmpfiles,
 * deb-systemd-helper, systemctl or useradd. The scripts must say what they skipped and succeed, so
 * the package installs into a bare container or an image being assembled.
 */
class MaintainerScriptsWithoutToolsTest {

    static final BuiltPackages BUILT = BuiltPackages.fromBuild();

    @Test
    void installRemoveAndPurgeSucceedAndSayWhatWasSkipped(@TempDir Path tmp) throws IOException {
        assertTrue(Command.root(), "dpkg chroots into the root: run the tests as root (scripts/test does)");
        for (BuiltPackages.Deb d : BUILT.both()) {
            ThrowawayRoot root = ThrowawayRoot.minimal(tmp.resolve(d.name()));
            Command.Result install = root.dpkg("-i", d.file().toString()).ok();
            assertThat(install.err()).contains(d.name() + ": systemd-sysusers not found").contains(d.name() + ": systemd-tmpfiles not found");
            assertThat(root.status(d.name())).isEqualTo("install ok installed");
            assertThat(root.exists("/etc/passwd")).as("no tool, no account").isFalse();

            // The state an administrator made by hand survives remove and goes with purge.
            String state = d.stateDirs().get(0);
            Files.createDirectories(root.path(state));
            Files.writeString(root.path(state + "/kept"), "x");
            root.dpkg("-r", d.name()).ok();
            assertThat(root.path(state + "/kept")).exists();
            root.dpkg("-P", d.name()).ok();
            assertThat(root.exists(state)).isFalse();
            assertThat(root.status(d.name())).isEmpty();
        }
    }
}
