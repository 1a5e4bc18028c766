package rsuota.bundletool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.pki.TestPki;

/**
 * The rsu-bundle command contract, with a PKI made by openssl (not only by Java code) and
 * signatures checked by openssl in both directions.
 */
class RsuBundleCliTest {
    @TempDir static Path dir;
    static Path rootfs;
    static Path app;

    record Run(int code, String out, String err) {}

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RsuBundle.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    static Run sh(Path cwd, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(false).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    static void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Run r = sh(dir, cmd.toArray(new String[0]));
        assertThat(r.code()).as("openssl %s: %s", String.join(" ", args), r.err()).isZero();
    }

    /** A root -> intermediate -> code-signer PKI made with openssl, ECDSA P-256 (FIELD-NOTES: openssl 3.0 cannot do Ed25519 CMS). */
    @BeforeAll
    static void opensslPki() throws Exception {
        Files.writeString(dir.resolve("ext.cnf"), """
                [req]
distinguished_name=dn
[dn]
[ca]
                basicConstraints=critical,CA:TRUE
                keyUsage=critical,keyCertSign,cRLSign
                subjectKeyIdentifier=hash
                [int]
                basicConstraints=critical,CA:TRUE,pathlen:0
                keyUsage=critical,keyCertSign,cRLSign
                subjectKeyIdentifier=hash
                authorityKeyIdentifier=keyid
                [signer]
                basicConstraints=critical,CA:FALSE
                keyUsage=critical,digitalSignature
                extendedKeyUsage=codeSigning
                subjectKeyIdentifier=hash
                authorityKeyIdentifier=keyid
                """);
        for (String n : List.of("ca", "int", "signer")) {
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", n + ".key");
        }
        openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=openssl Test Root", "-days", "3650",
                "-config", "ext.cnf", "-extensions", "ca", "-out", "ca.pem");
        openssl("req", "-new", "-key", "int.key", "-subj", "/CN=openssl Test Intermediate", "-config", "ext.cnf", "-out", "int.csr");
        openssl("x509", "-req", "-in", "int.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "3650",
                "-extfile", "ext.cnf", "-extensions", "int", "-out", "int.pem");
        openssl("req", "-new", "-key", "signer.key", "-subj", "/CN=openssl Code Signer", "-config", "ext.cnf", "-out", "signer.csr");
        openssl("x509", "-req", "-in", "signer.csr", "-CA", "int.pem", "-CAkey", "int.key", "-CAcreateserial", "-days", "3650",
                "-extfile", "ext.cnf", "-extensions", "signer", "-out", "signer.pem");
        rootfs = dir.resolve("rootfs.img");
        app = dir.resolve("app.img");
        BundleBuilder.writeRandom(rootfs, 700_000, new java.util.Random(1));
        BundleBuilder.writeRandom(app, 90_000, new java.util.Random(2));
    }

    static String p(String name) {
        return dir.resolve(name).toString();
    }

    static Run create(String out, String... signing) {
        List<String> a = new ArrayList<>(List.of("create", "--release", "2.4.0", "--security-version", "7",
                "--compatible", "rsu-a1", "--compatible", "rsu-a2", "--component", "baseImage=2.4.0", "--component", "app=5.1.2",
                "--component", "agent=1.3.0", "--image", "rootfs=" + rootfs, "--image", "app=" + app, "--format", "1", "--chunk-size", "256KiB"));
        a.addAll(List.of(signing));
        a.addAll(List.of("-o", p(out)));
        return cli(a.toArray(new String[0]));
    }

    @Test
    void signedByRsuBundleVerifiesWithOpensslCms() throws Exception {
        Run c = create("a.rsub", "--key", p("signer.key"), "--cert", p("signer.pem"), "--chain", p("int.pem"));
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(cli("manifest", p("a.rsub"), "-o", p("a.manifest.json")).code()).isZero();
        assertThat(cli("signature", p("a.rsub"), "-o", p("a.sig.der")).code()).isZero();
        Run v = sh(dir, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "a.sig.der",
                "-content", "a.manifest.json", "-CAfile", "ca.pem", "-purpose", "any", "-out", "/dev/null");
        assertThat(v.code()).as(v.err()).isZero();
        assertThat(v.err()).contains("Verification successful");
        Run ok = cli("verify", "--keyring", p("ca.pem"), "--variant", "rsu-a2", "--min-security-version", "7", p("a.rsub"));
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).startsWith("OK 2.4.0");
        // openssl must refuse a manifest with one byte changed: the signature really covers these bytes
        byte[] m = Files.readAllBytes(dir.resolve("a.manifest.json"));
        m[m.length / 2] ^= 1;
        Files.write(dir.resolve("a.bad.json"), m);
        Run bad = sh(dir, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "a.sig.der",
                "-content", "a.bad.json", "-CAfile", "ca.pem", "-purpose", "any", "-out", "/dev/null");
        assertThat(bad.code()).isNotZero();
    }

    @Test
    void signedByOpensslAttachedToAnUnsignedBundleVerifies() throws Exception {
        Run c = create("u.rsub", "--unsigned");
        assertThat(c.code()).as(c.err()).isZero();
        Run unsigned = cli("verify", "--keyring", p("ca.pem"), p("u.rsub"));
        assertThat(unsigned.code()).isEqualTo(3);
        assertThat(unsigned.err()).startsWith("UNSIGNED: ");
        assertThat(cli("signature", p("u.rsub"), "-o", p("none.der")).code()).isEqualTo(7);
        assertThat(cli("manifest", p("u.rsub"), "-o", p("u.manifest.json")).code()).isZero();
        openssl("cms", "-sign", "-binary", "-in", "u.manifest.json", "-signer", "signer.pem", "-inkey", "signer.key",
                "-certfile", "int.pem", "-outform", "DER", "-out", "u.sig.der");
        Run att = cli("attach-signature", p("u.rsub"), p("u.sig.der"), "-o", p("u.signed.rsub"));
        assertThat(att.code()).as(att.err()).isZero();
        Run ok = cli("verify", "--keyring", p("ca.pem"), "--variant", "rsu-a1", p("u.signed.rsub"));
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).startsWith("OK 2.4.0").contains("openssl Code Signer");
        // the payload was carried over byte for byte
        assertThat(Files.size(dir.resolve("u.signed.rsub")) - Files.size(dir.resolve("u.rsub")))
                .isEqualTo(Files.size(dir.resolve("u.sig.der")));
    }

    @Test
    void verifyRefusalsExit3WithReasonCodeAndWhere() throws Exception {
        assertThat(create("r.rsub", "--key", p("signer.key"), "--cert", p("signer.pem"), "--chain", p("int.pem")).code()).isZero();
        Run variant = cli("verify", "--keyring", p("ca.pem"), "--variant", "rsu-zz", p("r.rsub"));
        assertThat(variant.code()).isEqualTo(3);
        assertThat(variant.err()).startsWith("INCOMPATIBLE_VARIANT: ");
        Run down = cli("verify", "--keyring", p("ca.pem"), "--min-security-version", "8", p("r.rsub"));
        assertThat(down.err()).startsWith("DOWNGRADE: ");
        TestPki other = new TestPki();
        Path[] rogueRoot = TestPki.writePem(other.root, dir, "other-root");
        Run untrusted = cli("verify", "--keyring", rogueRoot[1].toString(), p("r.rsub"));
        assertThat(untrusted.code()).isEqualTo(3);
        assertThat(untrusted.err()).startsWith("UNTRUSTED_SIGNER: ");
        byte[] b = Files.readAllBytes(dir.resolve("r.rsub"));
        b[b.length - 100_000] ^= 0x10; // inside image 'app' (90000 bytes, chunk size 256 KiB -> one chunk)
        Files.write(dir.resolve("r.flip.rsub"), b);
        Run chunk = cli("verify", "--keyring", p("ca.pem"), p("r.flip.rsub"));
        assertThat(chunk.code()).isEqualTo(3);
        assertThat(chunk.err()).startsWith("CHUNK_HASH_MISMATCH: ").contains("image 'rootfs' chunk 2 of 3");
        assertThat(chunk.err().lines().count()).isEqualTo(1);
    }

    @Test
    void format2IsTheDefaultSignsWithOpensslAndEstimatesWhatAUnitFetches() throws Exception {
        Path old = dir.resolve("old.img");
        byte[] text = rsuota.bundle.BundleFormat2Test.text(new java.util.Random(5), 1_500_000);
        Files.write(old, text);
        byte[] changed = text.clone();
        System.arraycopy("a small change".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, changed, 700_000, 14);
        Path neu = dir.resolve("new.img");
        Files.write(neu, changed);
        Run c = cli("create", "--release", "2.5.0", "--security-version", "7", "--compatible", "rsu-a1", "--image", "rootfs=" + neu,
                "--level", "3", "--unsigned", "-o", p("v2.rsub"));
        assertThat(c.code()).as(c.err()).isZero();
        Run human = cli("inspect", p("v2.rsub"));
        assertThat(human.out()).contains("(format 2, UNSIGNED)").contains("content-defined").contains("bounds 16384/65536/262144")
                .contains("bytes zstd");
        assertThat(cli("manifest", p("v2.rsub"), "-o", p("v2.manifest.json")).code()).isZero();
        openssl("cms", "-sign", "-binary", "-in", "v2.manifest.json", "-signer", "signer.pem", "-inkey", "signer.key",
                "-certfile", "int.pem", "-outform", "DER", "-out", "v2.sig.der");
        assertThat(cli("attach-signature", p("v2.rsub"), p("v2.sig.der"), "-o", p("v2.signed.rsub")).code()).isZero();
        Run ok = cli("verify", "--keyring", p("ca.pem"), "--variant", "rsu-a1", p("v2.signed.rsub"));
        assertThat(ok.code()).as(ok.err()).isZero();
        Run est = cli("estimate", "--from", old.toString(), p("v2.signed.rsub"));
        assertThat(est.code()).as(est.err()).isZero();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("fetch (\\d+) bytes \\((\\d+) of (\\d+) chunks").matcher(est.out());
        assertThat(m.find()).as(est.out()).isTrue();
        assertThat(Integer.parseInt(m.group(2))).as("one chunk changed").isEqualTo(1);
        assertThat(Long.parseLong(m.group(1))).isLessThan(Files.size(dir.resolve("v2.signed.rsub")) / 10);
        Run fromBundle = cli("estimate", "--from", p("v2.signed.rsub"), p("v2.signed.rsub"));
        assertThat(fromBundle.out()).contains("(0 of ");
    }

    @Test
    void inspectShowsContentsAndJson() {
        assertThat(create("i.rsub", "--unsigned").code()).isZero();
        Run human = cli("inspect", p("i.rsub"));
        assertThat(human.code()).isZero();
        assertThat(human.out()).contains("release:          2.4.0").contains("UNSIGNED").contains("image rootfs")
                .contains("3 chunk(s) of 262144 bytes");
        Run json = cli("inspect", "--json", p("i.rsub"));
        assertThat(json.out()).contains("\"release\" : \"2.4.0\"").contains("\"signed\" : false").contains("\"payloadSize\" : 790000");
    }

    @Test
    void usageErrorsExit2AndOtherFailuresHaveDistinctCodes() throws Exception {
        assertThat(cli().code()).isEqualTo(2);
        assertThat(cli("verify").code()).isEqualTo(2);
        assertThat(cli("frobnicate").code()).isEqualTo(2);
        Run both = create("x.rsub", "--unsigned", "--key", p("signer.key"), "--cert", p("signer.pem"));
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("either --key and --cert, or --unsigned");
        assertThat(cli("create", "--release", "1", "--security-version", "1", "--compatible", "a", "--image", "rootfs=" + rootfs,
                "--chunk-size", "1KiB", "--unsigned", "-o", p("y.rsub")).code()).isEqualTo(2);
        Run missing = cli("verify", "--keyring", p("ca.pem"), p("nope.rsub"));
        assertThat(missing.code()).isEqualTo(4);
        assertThat(missing.err()).contains("no such file").doesNotContain("Exception");
        Files.writeString(dir.resolve("garbage.key"), "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
        Run badKey = create("z.rsub", "--key", p("garbage.key"), "--cert", p("signer.pem"));
        assertThat(badKey.code()).isEqualTo(5);
        assertThat(badKey.err()).contains("openssl pkcs8 -topk8");
        Files.writeString(dir.resolve("notabundle.rsub"), "hello world, not a bundle");
        Run notBundle = cli("inspect", p("notabundle.rsub"));
        assertThat(notBundle.code()).isEqualTo(6);
        assertThat(notBundle.err()).contains("BAD_MAGIC");
        assertThat(Files.exists(dir.resolve("z.rsub"))).isFalse();
        assertThat(cli("--help").code()).isZero();
        assertThat(cli("create", "--help").code()).isZero();
    }

    @Test
    void wrapperScriptRunsTheTool() throws Exception {
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        Path script = root.resolve("scripts/rsu-bundle");
        Run help = sh(root, script.toString(), "--help");
        assertThat(help.code()).as(help.err()).isZero();
        assertThat(help.out()).contains("attach-signature").contains("verify");
        Run usage = sh(root, script.toString(), "verify");
        assertThat(usage.code()).isEqualTo(2);
    }

    /** Every status rsu-bundle returns is an ExitCodes constant, so the footer must list the whole table. */
    @Test
    void helpListsEveryExitCode() {
        Run r = cli("--help");
        assertThat(r.code()).isZero();
        // picocli wraps long meanings; compare with the whitespace folded
        String help = r.out().replaceAll("\\s+", " ");
        for (ExitCodes x : ExitCodes.values()) {
            assertThat(help).as("--help lists exit %d", x.code()).contains(" " + x.code() + " " + x.meaning() + " ");
        }
    }

    /** --help at every level of the picocli model, with names (not {@code <arg0>}) for every parameter. */
    @Test
    void everyCommandAnswersHelpWithNamedLabels() {
        picocli.CommandLine model = new picocli.CommandLine(new RsuBundle());
        assertThat(rsuota.fixtures.cli.CommandLevels.paths(model)).hasSizeGreaterThan(6);
        assertThat(rsuota.fixtures.cli.CommandLevels.helpProblems(model, args -> {
            Run r = cli(args);
            return new rsuota.fixtures.cli.CommandLevels.Run(r.code(), r.out(), r.err());
        })).isEmpty();
    }

    @Test
    void readmeListsTheExitStatusesRsuBundleReturns() throws IOException {
        assertThat(rsuota.fixtures.cli.ReadmeExitTable.problems(rsuota.fixtures.cli.ReadmeExitTable.projectReadme(), "rsu-bundle",
                List.of(ExitCodes.values()))).isEmpty();
    }
}
