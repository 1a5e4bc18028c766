package rsuota.packaging.build;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Build step of the rsu-agent package: copies the agent's runtime jars, removing jar signatures
 * (META-INF/*.SF, *.RSA, *.DSA, *.EC) and the per-entry sections of the manifest (one digest per
 * class: ~6,900 sections in bcprov) while keeping its main section (Multi-Release and the rest).
 *
 * <p>Why: the JVM verifies a signed jar as it loads it and keeps every manifest section on the
 * heap (~5 MiB for BouncyCastle and Paho), and class-data sharing never archives classes of a
 * signed jar. Nothing relies on the signatures: the agent uses BouncyCastle to parse CMS, not as a
 * JCE provider, and Maven checks every jar's checksum when it is downloaded. Debian's own
 * BouncyCastle jars are unsigned too. Measured in docs/benchmarks.md (Footprint).
 *
 * <p>Usage: {@code StripJarSignatures SRC_DIR DST_DIR}. Output is a function of the input (entry
 * order and times are kept), so the package stays reproducible.
 */
public final class StripJarSignatures {
    static final Pattern SIGNATURE = Pattern.compile("META-INF/[^/]+\\.(SF|RSA|DSA|EC)");

    private StripJarSignatures() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: StripJarSignatures SRC_DIR DST_DIR");
            System.exit(2);
        }
        Path src = Path.of(args[0]);
        Path dst = Path.of(args[1]);
        Files.createDirectories(dst);
        List<Path> jars = new ArrayList<>();
        try (Stream<Path> s = Files.list(src)) {
            s.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().forEach(jars::add);
        }
        for (Path jar : jars) {
            Path out = dst.resolve(jar.getFileName());
            if (strip(jar, out)) {
                System.out.println("unsigned copy: " + jar.getFileName());
            } else {
                Files.copy(jar, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    /** Writes the stripped copy of {@code jar} to {@code out}; false (nothing written) when there is nothing to strip. */
    static boolean strip(Path jar, Path out) throws IOException {
        try (JarFile in = new JarFile(jar.toFile(), false)) {
            Manifest m = in.getManifest();
            boolean signed = in.stream().anyMatch(e -> SIGNATURE.matcher(e.getName()).matches());
            if (!signed && (m == null || m.getEntries().isEmpty())) return false;
            Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
            try (ZipOutputStream zo = new ZipOutputStream(Files.newOutputStream(tmp))) {
                Enumeration<? extends ZipEntry> entries = ((ZipFile) in).entries();
                while (entries.hasMoreElements()) {
                    ZipEntry e = entries.nextElement();
                    if (SIGNATURE.matcher(e.getName()).matches()) continue;
                    ZipEntry n = new ZipEntry(e.getName());
                    n.setTime(e.getTime());
                    zo.putNextEntry(n);
                    if (e.getName().equals(JarFile.MANIFEST_NAME) && m != null) {
                        m.getEntries().clear();
                        m.write(zo);
                    } else if (!e.isDirectory()) {
                        try (InputStream is = in.getInputStream(e)) {
                            is.transferTo(zo);
                        }
                    }
                    zo.closeEntry();
                }
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
            return true;
        }
    }
}
