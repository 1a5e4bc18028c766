package rsuota.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What `dpkg-deb --info` and `--contents` show of both packages: fields, conffiles, scripts, files, modes, owners. */
class PackageContentsTest {

    static final BuiltPackages BUILT = BuiltPackages.fromBuild();

    /** One line of `dpkg-deb --contents`: mode string, owner/group, path (without the leading "."). */
    record Entry(String mode, String owner, String path) {}

    static Map<String, Entry> contents(Path deb) {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (String line : Command.run("dpkg-deb", "--contents", deb.toString()).ok().out().split("\n")) {
            if (line.isBlank()) continue;
            String[] f = line.trim().split("\\s+", 6);
            String path = f[5].replaceFirst("^\\.", "").replaceFirst("/$", "");
            if (!path.isEmpty()) out.put(path, new Entry(f[0], f[1], path));
        }
        return out;
    }

    static String field(Path deb, String name) {
        return Command.run("dpkg-deb", "--field", deb.toString(), name).ok().out().trim();
    }

    @Test
    void controlFieldsNameTheRuntimeAndTheVersion() {
        for (BuiltPackages.Deb d : BUILT.both()) {
            Path deb = d.file();
            assertThat(field(deb, "Package")).isEqualTo(d.name());
            assertThat(field(deb, "Version")).isEqualTo(BUILT.version());
            assertThat(field(deb, "Architecture")).isEqualTo("all");
            assertThat(field(deb, "Section")).isEqualTo("admin");
            assertThat(field(deb, "Priority")).isEqualTo("optional");
            assertThat(field(deb, "Maintainer")).matches(".+ <.+@.+>");
            assertThat(field(deb, "Depends")).contains("openjdk-17-jre-headless | java17-runtime-headless").contains("systemd");
            assertThat(field(deb, "Description")).isNotBlank();
            assertThat(Integer.parseInt(field(deb, "Installed-Size"))).isPositive();
        }
        assertThat(field(BUILT.agent().file(), "Depends")).as("the reboot goes through logind + polkit").contains("polkitd");
        assertThat(field(BUILT.agent().file(), "Recommends")).contains("libubootenv-tool");
    }

    @Test
    void conffilesAreExactlyTheEditableConfiguration() {
        for (BuiltPackages.Deb d : BUILT.both()) {
            String conffiles = Command.run("dpkg-deb", "--info", d.file().toString(), "conffiles").ok().out();
            assertThat(conffiles.lines().toList()).as(d.name()).containsExactlyInAnyOrderElementsOf(d.conffiles());
        }
    }

    @Test
    void maintainerScriptsArePresentExecutableAndValidShell(@TempDir Path tmp) throws IOException {
        for (BuiltPackages.Deb d : BUILT.both()) {
            String info = Command.run("dpkg-deb", "--info", d.file().toString()).ok().out();
            for (String script : List.of("postinst", "prerm", "postrm")) {
                // dpkg-deb marks executable control members with '*'.
                assertThat(info).as(d.name() + " " + script).containsPattern("\\*\\s+" + script + "\\s+#!/bin/sh");
            }
            assertThat(info).doesNotContain("preinst");
            Path control = tmp.resolve(d.name());
            Command.run("dpkg-deb", "--control", d.file().toString(), control.toString()).ok();
            for (String script : List.of("postinst", "prerm", "postrm")) {
                Command.run("sh", "-n", control.resolve(script).toString()).ok();
                String text = Files.readString(control.resolve(script));
                assertThat(text).as("every path the scripts touch honours DPKG_ROOT").doesNotContainPattern("rm -rf \"?/");
                assertThat(text).contains("set -e");
            }
        }
    }

    /** The one executable outside /usr/bin: run by rsu-agent-fallback.service, not by people (so no manual page). */
    static final String FALLBACK_SCRIPT = "/usr/lib/rsu-agent/rsu-agent-fallback";

    @Test
    void agentFilesModesAndOwners() throws IOException {
        Map<String, Entry> c = contents(BUILT.agent().file());
        assertFile(c, "/usr/bin/rsu-agent", "-rwxr-xr-x");
        assertFile(c, FALLBACK_SCRIPT, "-rwxr-xr-x");
        for (String f : List.of("/lib/systemd/system/rsu-agent.service", "/lib/systemd/system/rsu-agent-fallback.service", "/etc/rsu-agent/agent.conf", "/etc/rsu-agent/logging.properties",
                "/usr/lib/sysusers.d/rsu-agent.conf", "/usr/lib/tmpfiles.d/rsu-agent.conf",
                "/usr/share/polkit-1/rules.d/50-rsu-agent.rules", "/usr/share/doc/rsu-agent/copyright",
                "/usr/share/doc/rsu-agent/changelog.gz", "/usr/share/doc/rsu-agent/README.Debian", "/usr/share/man/man1/rsu-agent.1.gz",
                "/usr/share/man/man1/rsu-agent-install.1.gz", "/usr/share/bash-completion/completions/rsu-agent")) {
            assertFile(c, f, "-rw-r--r--");
        }
        assertThat(jars(c, "/usr/share/rsu-agent/lib/")).as("agent-core's jar and its runtime libraries, no fat jar")
                .isEqualTo(moduleJars("agent-core", Set.of()));
        assertThat(jars(c, "/usr/share/rsu-agent/lib/")).contains("bcprov-jdk18on-1.87.jar", "bcpkix-jdk18on-1.87.jar", "jna-5.17.0.jar");
        assertCommonRules(c);
    }

    @Test
    void controllerFilesModesAndOwners() throws IOException {
        Map<String, Entry> c = contents(BUILT.controller().file());
        assertFile(c, "/usr/bin/fleet-controller", "-rwxr-xr-x");
        assertFile(c, "/usr/bin/fleetctl", "-rwxr-xr-x");
        for (String f : List.of("/lib/systemd/system/fleet-controller.service", "/etc/default/fleet-controller",
                "/usr/lib/sysusers.d/fleet-controller.conf", "/usr/lib/tmpfiles.d/fleet-controller.conf",
                "/usr/share/doc/fleet-controller/copyright", "/usr/share/doc/fleet-controller/changelog.gz",
                "/usr/share/doc/fleet-controller/README.Debian", "/usr/share/man/man1/fleet-controller.1.gz",
                "/usr/share/man/man1/fleetctl.1.gz", "/usr/share/man/man1/fleetctl-token-create.1.gz",
                "/usr/share/bash-completion/completions/fleetctl", "/usr/share/bash-completion/completions/fleet-controller")) {
            assertFile(c, f, "-rw-r--r--");
        }
        assertThat(jars(c, "/usr/share/fleet-controller/lib/"))
                .isEqualTo(moduleJars("fleet-controller", Set.of("listenablefuture-9999.0-empty-to-avoid-conflict-with-guava.jar")));
        assertCommonRules(c);
    }

    @Test
    void packagedUnitsAreTheOnesInSystemdDir(@TempDir Path tmp) throws IOException {
        for (BuiltPackages.Deb d : BUILT.both()) {
            Path root = tmp.resolve(d.name());
            Command.run("dpkg-deb", "-x", d.file().toString(), root.toString()).ok();
            for (String unit : d.units()) {
                assertThat(root.resolve("lib/systemd/system/" + unit)).hasSameBinaryContentAs(BuiltPackages.systemdDir().resolve(unit));
            }
        }
        assertThat(tmp.resolve("rsu-agent" + FALLBACK_SCRIPT)).hasSameBinaryContentAs(BuiltPackages.systemdDir().resolve("rsu-agent-fallback"));
    }

    /** Owned by root, directories 0755, nothing in /var or /run (the postinst creates those with their owners). */
    /**
     * The agent's jars are packaged without signatures and per-class manifest sections (heap,
     * class loading, class-data sharing: StripJarSignatures), and with every other entry exactly
     * as Maven resolved it, the manifest's main section included (bcprov is a multi-release jar).
     */
    @Test
    void agentJarsAreTheResolvedOnesWithoutSignatures(@TempDir Path tmp) throws IOException {
        Command.run("dpkg-deb", "-x", BUILT.agent().file().toString(), tmp.toString()).ok();
        Path lib = tmp.resolve("usr/share/rsu-agent/lib");
        Path resolved = BuiltPackages.projectRoot().resolve("agent-core/target/lib");
        java.util.regex.Pattern sig = java.util.regex.Pattern.compile("META-INF/[^/]+\\.(SF|RSA|DSA|EC)");
        int stripped = 0;
        try (Stream<Path> s = Files.list(resolved)) {
            for (Path original : s.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                Path packaged = lib.resolve(original.getFileName());
                assertThat(packaged).as("packaged copy of " + original.getFileName()).exists();
                try (java.util.jar.JarFile o = new java.util.jar.JarFile(original.toFile(), false);
                     java.util.jar.JarFile p = new java.util.jar.JarFile(packaged.toFile(), false)) {
                    Map<String, Long> want = new java.util.TreeMap<>();
                    o.stream().filter(e -> !sig.matcher(e.getName()).matches() && !e.getName().equals(java.util.jar.JarFile.MANIFEST_NAME))
                            .forEach(e -> want.put(e.getName(), e.getCrc()));
                    Map<String, Long> got = new java.util.TreeMap<>();
                    p.stream().filter(e -> !e.getName().equals(java.util.jar.JarFile.MANIFEST_NAME)).forEach(e -> got.put(e.getName(), e.getCrc()));
                    assertThat(got).as(packaged.getFileName() + ": every class and resource, byte for byte (CRC)").isEqualTo(want);
                    assertThat(p.stream().map(java.util.zip.ZipEntry::getName)).as(packaged.getFileName() + " signature files")
                            .noneMatch(n -> sig.matcher(n).matches());
                    if (o.getManifest() != null) {
                        assertThat(p.getManifest().getMainAttributes()).as(packaged.getFileName() + " main manifest section")
                                .isEqualTo(o.getManifest().getMainAttributes());
                        assertThat(p.getManifest().getEntries()).as(packaged.getFileName() + " per-entry manifest sections").isEmpty();
                    }
                    if (o.stream().anyMatch(e -> sig.matcher(e.getName()).matches())) stripped++;
                }
            }
        }
        assertThat(stripped).as("signed jars among the agent's dependencies (BouncyCastle x3, Paho)").isGreaterThanOrEqualTo(4);
        try (java.util.jar.JarFile bc = new java.util.jar.JarFile(Files.list(lib).filter(p -> p.getFileName().toString().startsWith("bcprov-"))
                .findFirst().orElseThrow().toFile())) {
            assertThat(bc.isMultiRelease()).as("bcprov stays a multi-release jar").isTrue();
        }
    }

    static void assertCommonRules(Map<String, Entry> c) {
        List<String> problems = new ArrayList<>();
        for (Entry e : c.values()) {
            if (!e.owner().equals("root/root")) problems.add(e.path() + " owned by " + e.owner());
            if (e.mode().startsWith("d") && !e.mode().equals("drwxr-xr-x")) problems.add(e.path() + " dir mode " + e.mode());
            if (e.mode().startsWith("-") && !e.mode().equals("-rw-r--r--") && !e.path().startsWith("/usr/bin/") && !e.path().equals(FALLBACK_SCRIPT)) {
                problems.add(e.path() + " mode " + e.mode());
            }
            if (e.path().startsWith("/var") || e.path().startsWith("/run")) problems.add(e.path() + " shipped in the package");
            if (!e.mode().startsWith("d") && !e.mode().startsWith("-")) problems.add(e.path() + " is neither file nor dir: " + e.mode());
        }
        assertThat(problems).isEmpty();
    }

    static void assertFile(Map<String, Entry> c, String path, String mode) {
        assertThat(c).as("package contents").containsKey(path);
        assertThat(c.get(path).mode()).as(path).isEqualTo(mode);
        assertThat(c.get(path).owner()).as(path).isEqualTo("root/root");
    }

    static Set<String> jars(Map<String, Entry> c, String dir) {
        return c.keySet().stream().filter(p -> p.startsWith(dir) && p.endsWith(".jar"))
                .map(p -> p.substring(dir.length())).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The module's jar plus everything its build copied to target/lib, minus what the package leaves out. */
    static Set<String> moduleJars(String module, Set<String> leftOut) throws IOException {
        Path target = BuiltPackages.projectRoot().resolve(module).resolve("target");
        Set<String> out = new TreeSet<>();
        out.add(module + "-" + BUILT.version() + ".jar");
        try (Stream<Path> s = Files.list(target.resolve("lib"))) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jar") && !leftOut.contains(n)).forEach(out::add);
        }
        return out;
    }
}
