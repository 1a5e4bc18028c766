package rsuota.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The two packages `mvn package` built in this module's target directory (failsafe passes the
 * directory and the version), and the facts every test checks them against.
 */
record BuiltPackages(Path dir, String version) {

    /**
     * One package: its name, its .deb, its service unit, the paths its maintainer scripts own, and
     * its other units (started by the service's dependencies, never enabled).
     */
    record Deb(String name, Path file, String unit, List<String> stateDirs, List<String> conffiles, List<String> otherUnits) {
        /** Every unit file the package ships, the service first. */
        List<String> units() {
            List<String> all = new java.util.ArrayList<>(List.of(unit));
            all.addAll(otherUnits);
            return all;
        }
    }

    static BuiltPackages fromBuild() {
        Path dir = Path.of(System.getProperty("deb.dir", "target"));
        String version = System.getProperty("deb.version", "0.1.0");
        BuiltPackages b = new BuiltPackages(dir, version);
        for (Deb d : b.both()) {
            assertThat(d.file()).as("built by `mvn package` in agent-packaging").isRegularFile();
        }
        return b;
    }

    Deb agent() {
        return new Deb("rsu-agent", dir.resolve("rsu-agent_" + version + "_all.deb"), "rsu-agent.service",
                List.of("/var/lib/rsu-agent", "/var/cache/rsu-agent", "/run/rsu-agent"),
                List.of("/etc/rsu-agent/agent.conf", "/etc/rsu-agent/logging.properties"), List.of("rsu-agent-fallback.service"));
    }

    Deb controller() {
        return new Deb("fleet-controller", dir.resolve("fleet-controller_" + version + "_all.deb"), "fleet-controller.service",
                List.of("/var/lib/fleet-controller"), List.of("/etc/default/fleet-controller"), List.of());
    }

    List<Deb> both() {
        return List.of(agent(), controller());
    }

    /** The project's root (agent-packaging's parent), for docs/ and the modules' target/lib. */
    static Path projectRoot() {
        return Path.of(System.getProperty("systemd.dir", "../systemd")).toAbsolutePath().normalize().getParent();
    }

    static Path systemdDir() {
        return projectRoot().resolve("systemd");
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
