package rsuota.bundletool;

import java.util.Locale;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import rsuota.bundle.BundleException;
import rsuota.bundle.BundleFormat;
import rsuota.bundle.BundleHeader;
import rsuota.bundle.BundleVerifier;
import rsuota.bundle.BundleWriter;
import rsuota.bundle.ByteSizes;
import rsuota.bundle.CmsSigner;
import rsuota.bundle.Manifest;
import rsuota.bundle.ManifestCodec;
import rsuota.bundle.ManifestImage;
import rsuota.bundle.Pem;
import rsuota.bundle.Sha256;
import rsuota.bundle.VerifiedManifest;
import rsuota.bundle.VerifyOptions;
import rsuota.cli.ExitStatus;

/** {@code rsu-bundle}: create, inspect, sign and verify .rsub bundles. The command contract is stable. */
@Command(name = "rsu-bundle", mixinStandardHelpOptions = true, version = "rsu-bundle 0.1.0",
        description = "Create, inspect, sign and verify signed RSU update bundles (.rsub).",
        subcommands = {RsuBundle.Create.class, RsuBundle.ManifestCmd.class, RsuBundle.SignatureCmd.class,
                RsuBundle.AttachSignature.class, RsuBundle.Inspect.class, RsuBundle.Verify.class, Estimate.class})
public final class RsuBundle implements Callable<Integer> {

    /** A failure with its exit code and one-line reason. */
    static final class Failure extends Exception {
        final int code;

        Failure(ExitCodes code, String message) {
            super(message);
            this.code = code.code();
        }
    }

    static Clock clock = Clock.systemUTC();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the tool; returns the exit code. Output goes to {@code out}, failures as one line to {@code err}. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new RsuBundle());
        ExitStatus.document(cl, List.of(ExitCodes.values()));
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof Failure f) {
                err.println("rsu-bundle: " + f.getMessage());
                return f.code;
            }
            err.println("rsu-bundle: internal error: " + e);
            e.printStackTrace(err);
            return ExitCodes.INTERNAL.code();
        });
        return cl.execute(args);
    }

    // ---------------------------------------------------------------------------------------------

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Build a bundle from images, signed or --unsigned.")
    static final class Create implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--release", paramLabel = "VERSION", required = true, description = "release version, e.g. 2.4.0") String release;
        @Option(names = "--security-version", paramLabel = "N", required = true, description = "anti-downgrade counter (>= 0)") long securityVersion;
        @Option(names = "--compatible", paramLabel = "VARIANT", required = true, description = "a variant id this release supports (repeatable)") List<String> compatible;
        @Option(names = "--component", paramLabel = "NAME=VERSION", description = "NAME=VERSION, e.g. baseImage=2.4.0 (repeatable)") List<String> components = new ArrayList<>();
        @Option(names = "--image", paramLabel = "SLOTCLASS=PATH", required = true, description = "SLOTCLASS=PATH, e.g. rootfs=rootfs.img (repeatable)") List<String> images;
        @Option(names = "--format", paramLabel = "1|2", defaultValue = "2", description = "bundle format: 2 = content-defined zstd chunks, 1 = fixed-size raw chunks (default ${DEFAULT-VALUE})") int format;
        @Option(names = "--chunk-size", paramLabel = "SIZE", defaultValue = "4MiB", description = "format 1: chunk size, e.g. 4MiB, 512KiB (default ${DEFAULT-VALUE})") String chunkSize;
        @Option(names = "--chunk-min", paramLabel = "SIZE", defaultValue = "16KiB", description = "format 2: smallest chunk (default ${DEFAULT-VALUE})") String chunkMin;
        @Option(names = "--chunk-avg", paramLabel = "SIZE", defaultValue = "64KiB", description = "format 2: average chunk, a power of two (default ${DEFAULT-VALUE})") String chunkAvg;
        @Option(names = "--chunk-max", paramLabel = "SIZE", defaultValue = "256KiB", description = "format 2: largest chunk (default ${DEFAULT-VALUE})") String chunkMax;
        @Option(names = "--prefix", paramLabel = "SIZE", defaultValue = "256KiB", description = "format 2: image bytes before each chunk used as its zstd dictionary, 0 for none (default ${DEFAULT-VALUE})") String prefix;
        @Option(names = "--level", paramLabel = "N", defaultValue = "" + rsuota.bundle.ChunkCodec.DEFAULT_LEVEL, description = "format 2: zstd level 1..22 (default ${DEFAULT-VALUE})") int level;
        @Option(names = "--key", paramLabel = "PEM", description = "signer private key, PKCS#8 PEM") Path key;
        @Option(names = "--cert", paramLabel = "PEM", description = "signer certificate, PEM") Path cert;
        @Option(names = "--chain", paramLabel = "PEM", description = "intermediate certificate PEM to include (repeatable)") List<Path> chain = new ArrayList<>();
        @Option(names = "--unsigned", description = "write no signature (sign the manifest elsewhere, then attach-signature)") boolean unsigned;
        @Option(names = "-o", paramLabel = "FILE", required = true, description = "output bundle") Path out;

        @Override
        public Integer call() throws Failure {
            if (unsigned == (key != null || cert != null)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "give either --key and --cert, or --unsigned");
            }
            if (!unsigned && (key == null || cert == null)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--key and --cert go together");
            }
            if (format != 1 && format != 2) throw new CommandLine.ParameterException(spec.commandLine(), "--format is 1 or 2");
            if (level < 1 || level > 22) throw new CommandLine.ParameterException(spec.commandLine(), "--level is 1..22");
            int chunk = parseSize(spec, chunkSize);
            rsuota.bundle.Chunking chunking;
            try {
                chunking = new rsuota.bundle.Chunking(cdcSize("--chunk-min", chunkMin), cdcSize("--chunk-avg", chunkAvg),
                        cdcSize("--chunk-max", chunkMax));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            Map<String, String> comps = new LinkedHashMap<>();
            for (String c : components) {
                String[] kv = splitPair(spec, "--component", c);
                comps.put(kv[0], kv[1]);
            }
            List<BundleWriter.ImageSource> sources = new ArrayList<>();
            for (String i : images) {
                String[] kv = splitPair(spec, "--image", i);
                Path p = Path.of(kv[1]);
                if (!Files.isRegularFile(p)) throw new Failure(ExitCodes.IO, "image file " + p + " does not exist or is not a file");
                sources.add(new BundleWriter.ImageSource(kv[0], p));
            }
            java.util.function.Function<byte[], byte[]> signer = null;
            if (!unsigned) {
                PrivateKey k = pemKey(key);
                X509Certificate c = pemCert(cert);
                List<X509Certificate> ch = new ArrayList<>();
                for (Path p : chain) ch.addAll(pemCerts(p));
                Instant now = clock.instant();
                signer = bytes -> CmsSigner.sign(bytes, k, c, ch, now);
            }
            try {
                BundleWriter.Release rel = new BundleWriter.Release(release, securityVersion, compatible, comps, clock.instant());
                Manifest m = format == 1 ? BundleWriter.write(rel, sources, chunk, signer, out)
                        : BundleWriter.writeV2(rel, sources, chunking, level, (int) ByteSizes.parse(prefix), signer, out);
                spec.commandLine().getOut().printf(Locale.US, "wrote %s: release %s, %d image(s), %d bytes of payload, %s%n", out,
                        m.release(), m.images().size(), m.payloadSize(), unsigned ? "UNSIGNED" : "signed");
                return ExitCodes.OK.code();
            } catch (BundleException e) {
                throw new Failure(ExitCodes.BAD_BUNDLE, e.oneLine());
            } catch (IllegalArgumentException e) {
                throw new Failure(ExitCodes.KEY_MATERIAL, e.getMessage());
            } catch (IOException e) {
                throw new Failure(ExitCodes.IO, "cannot write " + out + ": " + e);
            }
        }
    }

    /** A chunker bound; {@link rsuota.bundle.Chunking} checks the three together. */
    private static int cdcSize(String opt, String s) {
        long v = ByteSizes.parse(s);
        if (v > BundleFormat.MAX_CHUNK_SIZE) throw new IllegalArgumentException(opt + " " + s + " exceeds 64MiB");
        return (int) v;
    }

    @Command(name = "manifest", mixinStandardHelpOptions = true, description = "Export the manifest: the exact bytes that are signed.")
    static final class ManifestCmd implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "BUNDLE") Path bundle;
        @Option(names = "-o", paramLabel = "FILE", required = true, description = "output file") Path out;

        @Override
        public Integer call() throws Failure {
            BundleHeader h = header(bundle);
            writeFile(out, h.manifestBytes());
            return ExitCodes.OK.code();
        }
    }

    @Command(name = "signature", mixinStandardHelpOptions = true, description = "Export the CMS SignedData (DER).")
    static final class SignatureCmd implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "BUNDLE") Path bundle;
        @Option(names = "-o", paramLabel = "FILE", required = true, description = "output file") Path out;

        @Override
        public Integer call() throws Failure {
            BundleHeader h = header(bundle);
            if (!h.signed()) throw new Failure(ExitCodes.NO_SIGNATURE, bundle + " is unsigned: there is no signature to export");
            writeFile(out, h.signature());
            return ExitCodes.OK.code();
        }
    }

    @Command(name = "attach-signature", mixinStandardHelpOptions = true,
            description = "Write a copy of BUNDLE carrying SIG (a DER CMS SignedData over its manifest).")
    static final class AttachSignature implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "BUNDLE") Path bundle;
        @Parameters(index = "1", paramLabel = "SIG.der") Path sig;
        @Option(names = "-o", paramLabel = "FILE", required = true, description = "output bundle") Path out;

        @Override
        public Integer call() throws Failure {
            byte[] der = readFile(sig);
            if (der.length == 0 || der[0] != 0x30) {
                throw new Failure(ExitCodes.BAD_BUNDLE, sig + " is not DER (a CMS SignedData starts with 0x30); "
                        + "sign with 'openssl cms -sign -binary -outform DER'");
            }
            try {
                BundleWriter.attachSignature(bundle, der, out);
            } catch (BundleException e) {
                throw new Failure(ExitCodes.BAD_BUNDLE, bundle + ": " + e.oneLine());
            } catch (NoSuchFileException e) {
                throw new Failure(ExitCodes.IO, "no such file: " + e.getFile());
            } catch (IOException e) {
                throw new Failure(ExitCodes.IO, "cannot write " + out + ": " + e);
            }
            return ExitCodes.OK.code();
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true, description = "Show what a bundle contains (without trusting it).")
    static final class Inspect implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "BUNDLE") Path bundle;
        @Option(names = "--json", description = "machine-readable output") boolean json;

        @Override
        public Integer call() throws Failure {
            BundleHeader h = header(bundle);
            Manifest m = h.manifest();
            PrintWriter o = spec.commandLine().getOut();
            if (json) {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("formatVersion", h.formatVersion());
                j.put("manifestDigest", Sha256.of(h.manifestBytes()));
                j.put("signed", h.signed());
                j.put("signatureBytes", h.signature().length);
                j.put("payloadOffset", h.payloadOffset());
                j.put("payloadSize", m.payloadSize());
                j.put("manifest", m);
                o.println(ManifestCodec.toPrettyJson(j));
                return ExitCodes.OK.code();
            }
            o.printf(Locale.US, "bundle:           %s (format %d, %s)%n", bundle, h.formatVersion(),
                    h.signed() ? "signed, " + h.signature().length + " bytes of CMS; not verified here, use verify" : "UNSIGNED");
            o.printf(Locale.US, "release:          %s%n", m.release());
            o.printf(Locale.US, "security version: %d%n", m.securityVersion());
            o.printf(Locale.US, "compatible:       %s%n", String.join(", ", m.compatible()));
            ManifestCodec.sortedComponents(m).forEach((k, v) -> o.printf(Locale.US, "component:        %s=%s%n", k, v));
            o.printf(Locale.US, "created:          %s%n", m.createdAt());
            o.printf(Locale.US, "manifest sha256:  %s%n", Sha256.of(h.manifestBytes()));
            for (ManifestImage im : m.images()) {
                if (!im.compressed()) {
                    o.printf(Locale.US, "image %-10s %d bytes at payload offset %d, %d chunk(s) of %d bytes, sha256 %s%n", im.slotClass(),
                            im.size(), im.offset(), im.chunkCount(), im.chunkSize(), im.sha256());
                    continue;
                }
                rsuota.bundle.ChunkLayout l = rsuota.bundle.ChunkLayout.of(im);
                int min = Integer.MAX_VALUE;
                long distinct = im.chunks().stream().distinct().count();
                for (int c = 0; c < l.count(); c++) min = Math.min(min, l.length(c));
                o.printf(Locale.US, "image %-10s %d bytes at payload offset %d, sha256 %s%n", im.slotClass(), im.size(), im.offset(), im.sha256());
                o.printf(Locale.US, "  chunks:         %d content-defined (%d distinct), length min %d / avg %d / max %d (bounds %d/%d/%d)%n",
                        l.count(), distinct, min, im.size() / l.count(), l.maxLength(), im.cdc().min(), im.cdc().avg(), im.chunkSize());
                o.printf(java.util.Locale.ROOT, "  stored:         %d bytes %s (%.1f %% of the image), largest stored chunk %d%n",
                        im.storedSize(), im.cdc().compression(), 100.0 * im.storedSize() / im.size(), l.maxStoredLength());
            }
            return ExitCodes.OK.code();
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Verify signature, signer chain, policy, and every payload chunk. Prints OK and the release.")
    static final class Verify implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--keyring", paramLabel = "PEM", required = true, description = "trust anchors (PEM, one or more root certificates)") Path keyring;
        @Option(names = "--variant", paramLabel = "VARIANT", description = "refuse unless the bundle supports this variant") String variant;
        @Option(names = "--min-security-version", paramLabel = "N", defaultValue = "0", description = "refuse bundles below this security version") long floor;
        @Option(names = "--untrusted-clock", description = "do not use this machine's clock (a device without RTC/NTP)") boolean untrustedClock;
        @Option(names = "--strict", description = "refuse signatures not in canonical form (unsigned CMS attributes, high-S ECDSA)") boolean strict;
        @Parameters(index = "0", paramLabel = "BUNDLE") Path bundle;

        @Override
        public Integer call() throws Failure {
            List<X509Certificate> anchors = pemCerts(keyring);
            VerifyOptions opts = VerifyOptions.of(anchors).withVariant(variant).withMinSecurityVersion(floor)
                    .withTrustedNow(untrustedClock ? Optional::empty : () -> Optional.of(clock.instant())).withStrict(strict);
            try {
                VerifiedManifest vm = new BundleVerifier(opts).verifyFile(bundle, null);
                spec.commandLine().getOut().printf(Locale.US, "OK %s (security version %d, signed by %s at %s)%n",
                        vm.manifest().release(), vm.manifest().securityVersion(), vm.signer().subject(), vm.signer().signingTime());
                return ExitCodes.OK.code();
            } catch (BundleException e) {
                spec.commandLine().getErr().println(e.oneLine());
                return ExitCodes.REFUSED.code();
            } catch (NoSuchFileException e) {
                throw new Failure(ExitCodes.IO, "no such file: " + e.getFile());
            } catch (IOException e) {
                throw new Failure(ExitCodes.IO, "cannot read " + bundle + ": " + e);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    static int parseSize(CommandLine.Model.CommandSpec spec, String s) {
        long v;
        try {
            v = ByteSizes.parse(s);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--chunk-size: " + e.getMessage());
        }
        if (v < BundleFormat.MIN_CHUNK_SIZE || v > BundleFormat.MAX_CHUNK_SIZE) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--chunk-size " + s + " is outside 64KiB..64MiB");
        }
        return (int) v;
    }

    static String[] splitPair(CommandLine.Model.CommandSpec spec, String opt, String v) {
        int eq = v.indexOf('=');
        if (eq <= 0 || eq == v.length() - 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), opt + " expects NAME=VALUE, got '" + v + "'");
        }
        return new String[] {v.substring(0, eq), v.substring(eq + 1)};
    }

    static BundleHeader header(Path bundle) throws Failure {
        try {
            return BundleHeader.read(bundle);
        } catch (BundleException e) {
            throw new Failure(ExitCodes.BAD_BUNDLE, bundle + ": " + e.oneLine());
        } catch (NoSuchFileException e) {
            throw new Failure(ExitCodes.IO, "no such file: " + bundle);
        } catch (IOException e) {
            throw new Failure(ExitCodes.IO, "cannot read " + bundle + ": " + e);
        }
    }

    static byte[] readFile(Path p) throws Failure {
        try {
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw new Failure(ExitCodes.IO, "no such file: " + p);
        } catch (IOException e) {
            throw new Failure(ExitCodes.IO, "cannot read " + p + ": " + e);
        }
    }

    static void writeFile(Path p, byte[] data) throws Failure {
        try {
            Files.write(p, data);
        } catch (IOException e) {
            throw new Failure(ExitCodes.IO, "cannot write " + p + ": " + e);
        }
    }

    static PrivateKey pemKey(Path p) throws Failure {
        try {
            return Pem.privateKey(p);
        } catch (Pem.PemException e) {
            throw new Failure(ExitCodes.KEY_MATERIAL, e.getMessage());
        } catch (NoSuchFileException e) {
            throw new Failure(ExitCodes.IO, "no such file: " + p);
        } catch (IOException e) {
            throw new Failure(ExitCodes.IO, "cannot read " + p + ": " + e);
        }
    }

    static X509Certificate pemCert(Path p) throws Failure {
        return pemCerts(p).get(0);
    }

    static List<X509Certificate> pemCerts(Path p) throws Failure {
        try {
            return Pem.certificates(p);
        } catch (Pem.PemException e) {
            throw new Failure(ExitCodes.KEY_MATERIAL, e.getMessage());
        } catch (NoSuchFileException e) {
            throw new Failure(ExitCodes.IO, "no such file: " + p);
        } catch (IOException e) {
            throw new Failure(ExitCodes.IO, "cannot read " + p + ": " + e);
        }
    }
}
