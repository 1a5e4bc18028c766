package rsuota.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An empty directory that dpkg treats as a machine of its own (`dpkg --root=DIR`): its own package
 * database, /etc/passwd and systemd links. Two ways to run the maintainer scripts:
 * <ul>
 *   <li>{@link #chrootless}: `--force-script-chrootless`, the scripts run on this machine with
 *       DPKG_ROOT=DIR and must point every tool at DIR (systemd-sysusers --root, deb-systemd-helper
 *       honours DPKG_ROOT). This is how image builders (mmdebstrap) install packages.
 *   <li>{@link #minimal}: dpkg chroots into DIR, where only /bin/sh and rm exist, so the scripts meet
 *       a root without systemctl, systemd-sysusers, useradd or deb-systemd-helper.
 * </ul>
 */
final class ThrowawayRoot {

    final Path dir;
    private final boolean chrootless;

    private ThrowawayRoot(Path dir, boolean chrootless) throws IOException {
        this.dir = dir;
        this.chrootless = chrootless;
        Files.createDirectories(dir.resolve("var/lib/dpkg/info"));
        Files.createDirectories(dir.resolve("var/lib/dpkg/updates"));
        Files.createDirectories(dir.resolve("var/log"));
        Files.createDirectories(dir.resolve("etc"));
        Files.createDirectories(dir.resolve("dev"));
        Files.writeString(dir.resolve("var/lib/dpkg/status"), "");
        Files.writeString(dir.resolve("var/lib/dpkg/available"), "");
    }

    static ThrowawayRoot chrootless(Path dir) throws IOException {
        return new ThrowawayRoot(dir, true);
    }

    /** A root holding nothing but /bin/sh (dash), rm, their libraries and /dev/null. */
    static ThrowawayRoot minimal(Path dir) throws IOException {
        ThrowawayRoot r = new ThrowawayRoot(dir, false);
        for (String tool : List.of("/bin/sh", "/bin/rm")) r.copyWithLibraries(Path.of(tool));
        Command.run("mknod", "-m", "666", dir.resolve("dev/null").toString(), "c", "1", "3").ok();
        return r;
    }

    private void copyWithLibraries(Path tool) throws IOException {
        copyInto(tool);
        String ldd = Command.run("ldd", tool.toRealPath().toString()).ok().out();
        for (String word : ldd.split("\\s+")) {
            if (word.startsWith("/")) copyInto(Path.of(word));
        }
    }

    private void copyInto(Path p) throws IOException {
        Path to = path(p.toString());
        Files.createDirectories(to.getParent());
        if (!Files.exists(to)) Files.copy(p.toRealPath(), to);
        Files.setPosixFilePermissions(to, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** DIR + an absolute path of the installed system. */
    Path path(String absolute) {
        return dir.resolve(absolute.substring(1));
    }

    /** dpkg on this root; dependencies (java, systemd) are not installed here, so they are not enforced. */
    Command.Result dpkg(String... args) {
        List<String> argv = new ArrayList<>(List.of("dpkg", "--root=" + dir, "--log=" + path("/var/log/dpkg.log"),
                "--force-depends", "--force-unsafe-io"));
        if (chrootless) argv.add("--force-script-chrootless");
        argv.addAll(List.of(args));
        return Command.run(argv, Map.of());
    }

    /** dpkg's view: "install ok installed", "deinstall ok config-files", or "" when it knows nothing. */
    String status(String pkg) {
        Command.Result r = Command.run("dpkg-query", "--admindir=" + path("/var/lib/dpkg"), "-W", "-f=${Status}", pkg);
        return r.exit() == 0 ? r.out().trim() : "";
    }

    String version(String pkg) {
        return Command.run("dpkg-query", "--admindir=" + path("/var/lib/dpkg"), "-W", "-f=${Version}", pkg).ok().out().trim();
    }

    /** name -> [id, members] from the root's /etc/passwd or /etc/group. */
    Map<String, String[]> accounts(String file) {
        Map<String, String[]> out = new HashMap<>();
        Path p = path(file);
        if (!Files.exists(p)) return out;
        for (String line : BuiltPackages.read(p).split("\n")) {
            String[] f = line.split(":", -1);
            if (f.length >= 4) out.put(f[0], new String[] {f[2], file.endsWith("group") ? f[3] : f[3]});
        }
        return out;
    }

    int uid(String user) {
        String[] e = accounts("/etc/passwd").get(user);
        assertThat(e).as("user " + user + " in " + path("/etc/passwd")).isNotNull();
        return Integer.parseInt(e[0]);
    }

    int gid(String group) {
        String[] e = accounts("/etc/group").get(group);
        assertThat(e).as("group " + group + " in " + path("/etc/group")).isNotNull();
        return Integer.parseInt(e[0]);
    }

    List<String> members(String group) {
        String[] e = accounts("/etc/group").get(group);
        return e == null || e[1].isEmpty() ? List.of() : List.of(e[1].split(","));
    }

    /** Owner, group and mode (octal, with setgid) of an installed path, without following links. */
    record Ownership(int uid, int gid, String mode) {}

    Ownership ownership(String absolute) {
        try {
            Path p = path(absolute);
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return new Ownership((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS),
                    (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS), Integer.toOctalString(mode & 07777));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    boolean exists(String absolute) {
        return Files.exists(path(absolute), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * A copy of {@code deb} as another version: unpacked with dpkg-deb -R, Version changed, then
     * {@code edit} may change files of the tree, and dpkg-deb -b builds it again (root-owned).
     */
    static Path repack(Path deb, String version, Path work, TreeEdit edit) throws IOException {
        Path tree = work.resolve("tree-" + version);
        Command.run("dpkg-deb", "-R", deb.toString(), tree.toString()).ok();
        Path control = tree.resolve("DEBIAN/control");
        Files.writeString(control, BuiltPackages.read(control).replaceFirst("(?m)^Version: .*$", "Version: " + version));
        edit.apply(tree);
        Path out = work.resolve(deb.getFileName().toString().replaceFirst("_[^_]+_all\\.deb$", "_" + version + "_all.deb"));
        Command.run("dpkg-deb", "--root-owner-group", "-Zgzip", "-b", tree.toString(), out.toString()).ok();
        return out;
    }

    @FunctionalInterface
    interface TreeEdit {
        void apply(Path tree) throws IOException;
    }
}
