package rsuota.agent.download;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.cli.RsuAgent;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.net.RangeFileServer;
import rsuota.fixtures.pki.TestPki;

/**
 * An install from an http:// URL, in a JVM of its own with the launcher's heap flags, loads none of what
 * took an install's peak RSS from 78 to 64 MiB (docs/benchmarks.md, Install peak RSS): the JDK HttpClient
 * (~5 MiB), jackson-databind (~9 MiB; the manifest and state files go through {@code RecordJson}), JNA
 * (download threads made idle by chrt), the CLDR locale tables ({@code String.format} without Locale.US,
 * {@code ConsoleHandler}'s SimpleFormatter, BouncyCastle's {@code getDate()}) and BouncyCastle's general
 * algorithm-name tables (the signer is checked by {@code JdkSignerVerifier}). The class-load log of the
 * whole run names the code that replaced each, so the log covers the path.
 */
class InstallFootprintClassesTest {
    static final TestPki PKI = new TestPki();
    @TempDir Path tmp;

    @Test
    void aFormat2InstallOverHttpLoadsNoneOfWhatTheFootprintShed() throws Exception {
        Path www = Files.createDirectories(tmp.resolve("www"));
        Path bundle = new BundleBuilder(www).signedBy(PKI, PKI.signer).image("rootfs", 600_000)
                .format2(rsuota.bundle.Chunking.DEFAULT).build("f2.rsub");
        Path conf = HttpsDownloadTest.simDevice(tmp, PKI);
        Path classes = tmp.resolve("class-load.log");
        try (RangeFileServer server = RangeFileServer.start(www)) {
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UseSerialGC", "-Xmx32m", "-Xlog:class+load:file=" + classes,
                    "-cp", System.getProperty("java.class.path"), RsuAgent.class.getName(),
                    "--config", conf.toString(), "install", server.uri("/" + bundle.getFileName()).toString(), "--download-only");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the installing JVM ended").isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("verified: release");
        }
        List<String> loaded = Files.readAllLines(classes);
        assertThat(loaded).as("HttpClient classes loaded")
                .noneMatch(l -> l.contains(" java.net.http.") || l.contains(" jdk.internal.net.http."));
        assertThat(loaded).as("the transport for https:// stays unloaded")
                .noneMatch(l -> l.contains(" rsuota.agent.download.JdkHttpClientTransport"));
        assertThat(loaded).as("the log covers the download").anyMatch(l -> l.contains(" rsuota.agent.download.Http11Connection "));
        for (String[] absent : new String[][] {
                {"jackson-databind", " com.fasterxml.jackson.databind.ObjectMapper "},
                {"JNA", " com.sun.jna.Native "},
                {"the CLDR locale tables", " sun.util.cldr.CLDRLocaleProviderAdapter "},
                {"the JDK console handler's SimpleFormatter", " java.util.logging.SimpleFormatter "},
                {"BouncyCastle's signature-name tables", " org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder "},
                {"BouncyCastle's CMS name generator", " org.bouncycastle.cms.DefaultCMSSignatureAlgorithmNameGenerator "}}) {
            assertThat(loaded).as(absent[0] + " loaded").noneMatch(l -> l.contains(absent[1]));
        }
        for (String present : new String[] {" rsuota.json.RecordJson ", " rsuota.bundle.JdkSignerVerifier ", " rsuota.hal.sched.ThreadPolicy ",
                " rsuota.agent.logging.StderrHandler "}) {
            assertThat(loaded).as("the log covers " + present.strip()).anyMatch(l -> l.contains(present));
        }
    }
}
