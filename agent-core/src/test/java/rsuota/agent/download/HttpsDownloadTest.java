package rsuota.agent.download;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.cli.RsuAgent;
import rsuota.agent.link.TlsFiles;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.mqtt.MqttPki;
import rsuota.fixtures.pki.TestPki;

/** Downloads over HTTPS from a server whose certificate chains to a private CA given in the config. */
class HttpsDownloadTest {
    static final TestPki PKI = new TestPki();
    static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d+)");
    @TempDir Path tmp;

    /** A simulated RSU in TMP/d (1 MiB slots) trusting {@code pki}'s root for bundles; returns its agent.conf. */
    static Path simDevice(Path tmp, TestPki pki) throws Exception {
        Path ca = tmp.resolve("ca.pem");
        Files.writeString(ca, TestPki.pem("CERTIFICATE", pki.root.cert().getEncoded()));
        assertThat(RsuAgent.run(new String[] {"sim-init", tmp.resolve("d").toString(), "--variant", "rsu-a1", "--slot-size", "1MiB",
                "--keyring", ca.toString()}, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()))).isZero();
        return tmp.resolve("d/agent.conf");
    }

    @Test
    void installOverHttpsWithAPrivateCaAndRefusalWithoutIt() throws Exception {
        Path bundle = new BundleBuilder(tmp).signedBy(PKI, PKI.signer).image("rootfs", 150_000).chunkSize(64 * 1024).build("s.rsub");
        byte[] bytes = Files.readAllBytes(bundle);
        MqttPki tls = MqttPki.create(tmp.resolve("tls"));
        HttpsServer server = rangeServer(tls, bytes);
        try {
            String url = "https://127.0.0.1:" + server.getAddress().getPort() + "/s.rsub";
            Path conf = simDevice(tmp, PKI);
            Files.writeString(conf, "download.retry.maxFailures=2\ndownload.retry.base=10ms\n", StandardOpenOption.APPEND);
            StringWriter err = new StringWriter();
            int refused = RsuAgent.run(new String[] {"--config", conf.toString(), "install", url, "--download-only"},
                    new PrintWriter(new StringWriter()), new PrintWriter(err, true));
            assertThat(refused).as("the JDK trust store does not know the private CA").isEqualTo(3);
            assertThat(err.toString()).contains("header");
            Files.writeString(conf, "download.tls.ca=" + tls.caCert() + "\n", StandardOpenOption.APPEND);
            StringWriter out = new StringWriter();
            StringWriter err2 = new StringWriter();
            int ok = RsuAgent.run(new String[] {"--config", conf.toString(), "install", url, "--download-only"},
                    new PrintWriter(out, true), new PrintWriter(err2, true));
            assertThat(ok).as(err2.toString()).isZero();
            assertThat(out.toString()).contains("verified: release 2.4.0");
            // The engine's own time and rate, for the technician (and scripts/bench download).
            assertThat(out.toString()).containsPattern("payload \\d+ bytes verified on the slot in \\d+\\.\\d\\d s \\(\\d+ MiB/s; \\d+ bytes fetched\\)");
        } finally {
            server.stop(0);
        }
    }

    /** An HTTPS Range server on 127.0.0.1 for {@code bytes} at /s.rsub, its certificate from {@code tls}'s CA. */
    static HttpsServer rangeServer(MqttPki tls, byte[] bytes) throws Exception {
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        // the server side of TLS: its certificate and key from the private CA (client cert = server cert, unused)
        server.setHttpsConfigurator(new HttpsConfigurator(new TlsFiles(tls.caCert(), tls.serverCert(), tls.serverKey()).sslContext()));
        server.createContext("/s.rsub", ex -> {
            Matcher m = RANGE.matcher(String.valueOf(ex.getRequestHeaders().getFirst("Range")));
            if (!m.matches()) {
                ex.sendResponseHeaders(400, -1);
                return;
            }
            int a = Integer.parseInt(m.group(1));
            int b = Math.min(Integer.parseInt(m.group(2)), bytes.length - 1);
            ex.getResponseHeaders().add("Content-Range", "bytes " + a + "-" + b + "/" + bytes.length);
            ex.sendResponseHeaders(206, b - a + 1);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(bytes, a, b - a + 1);
            }
        });
        server.start();
        return server;
    }

    @Test
    void anHttpUrlThatRedirectsToHttpsIsFollowedOverTls() throws Exception {
        Path bundle = new BundleBuilder(tmp).signedBy(PKI, PKI.signer).image("rootfs", 150_000).chunkSize(64 * 1024).build("s.rsub");
        MqttPki tls = MqttPki.create(tmp.resolve("tls"));
        HttpsServer https = rangeServer(tls, Files.readAllBytes(bundle));
        String target = "https://127.0.0.1:" + https.getAddress().getPort() + "/s.rsub";
        com.sun.net.httpserver.HttpServer http = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        java.util.concurrent.atomic.AtomicInteger redirects = new java.util.concurrent.atomic.AtomicInteger();
        http.createContext("/s.rsub", ex -> {
            redirects.incrementAndGet();
            ex.getResponseHeaders().set("Location", target);
            ex.sendResponseHeaders(307, -1);
            ex.close();
        });
        http.start();
        try {
            Path conf = simDevice(tmp, PKI);
            Files.writeString(conf, "download.tls.ca=" + tls.caCert() + "\n", StandardOpenOption.APPEND);
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int ok = RsuAgent.run(new String[] {"--config", conf.toString(), "install",
                    "http://127.0.0.1:" + http.getAddress().getPort() + "/s.rsub", "--download-only"},
                    new PrintWriter(out, true), new PrintWriter(err, true));
            assertThat(ok).as(err.toString()).isZero();
            assertThat(out.toString()).contains("verified: release 2.4.0");
            assertThat(redirects.get()).as("every range went through the http:// URL first").isGreaterThan(1);
        } finally {
            http.stop(0);
            https.stop(0);
        }
    }
}
