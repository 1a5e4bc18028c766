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
 * An install from an http:// URL, in a JVM of its own with the launcher's heap flags, loads none of
 * the JDK HttpClient's classes (~5 MiB of RSS: docs/benchmarks.md): the class-load log of the whole
 * run names the socket transport and no {@code java.net.http} / {@code jdk.internal.net.http} class.
 */
class HttpInstallLoadsNoHttpClientTest {
    static final TestPki PKI = new TestPki();
    @TempDir Path tmp;

    @Test
    void aFormat2InstallOverHttpNeverTouchesTheHttpClient() throws Exception {
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
    }
}
