package rsuota.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.link.TlsFiles;
import rsuota.fixtures.mqtt.MqttPki;
import rsuota.fixtures.net.RangeFileServer;

/**
 * The download's TLS context without {@code download.tls.ca}: nothing of TLS is loaded for an
 * http:// URL, and an https:// one is exactly as strict as the JDK's default context (its trust
 * store, host name verification).
 */
class LazyDefaultTlsTest {
    @TempDir Path tmp;

    static HttpClient client(LazyDefaultTls tls) {
        return HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
    }

    @Test
    void plainHttpNeverCreatesTheDefaultContext() throws Exception {
        Files.writeString(tmp.resolve("b.rsub"), "bundle bytes");
        LazyDefaultTls tls = LazyDefaultTls.create();
        try (RangeFileServer server = RangeFileServer.start(tmp)) {
            HttpResponse<String> r = client(tls).send(HttpRequest.newBuilder(server.uri("/b.rsub")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("bundle bytes");
        }
        assertThat(tls.initialized()).as("the trust store was not loaded for a plain HTTP download").isFalse();
    }

    /** The client offers what the JDK's default context offers; HTTP/2 (ALPN) needs TLS 1.2 or 1.3 among them. */
    @Test
    void theClientOffersTheJdkDefaultProtocols() throws Exception {
        LazyDefaultTls tls = LazyDefaultTls.create();
        assertThat(client(tls).sslParameters().getProtocols())
                .containsExactly(javax.net.ssl.SSLContext.getDefault().getDefaultSSLParameters().getProtocols());
        assertThat(tls.initialized()).isFalse();
    }

    @Test
    void aServerOutsideTheJdkTrustStoreIsRefused() throws Exception {
        MqttPki pki = MqttPki.create(tmp.resolve("tls"));
        HttpsServer server = httpsServer(pki, "127.0.0.1");
        try {
            LazyDefaultTls tls = LazyDefaultTls.create();
            URI uri = URI.create("https://127.0.0.1:" + server.getAddress().getPort() + "/b");
            assertThatThrownBy(() -> client(tls).send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(SSLHandshakeException.class);
            assertThat(tls.initialized()).isTrue();
            assertThatThrownBy(() -> tls.init(null, null, null)).hasMessageContaining("cannot be re-initialised");
        } finally {
            server.stop(0);
        }
    }

    /**
     * In a JVM whose default trust store holds the private CA (javax.net.ssl.trustStore, read once
     * per JVM, hence a JVM of its own): the server named in its certificate is reached; the same
     * server under an address its certificate does not name (127.0.0.2) is refused.
     */
    @Test
    void theJdkDefaultTrustAndHostNameVerificationApply() throws Exception {
        MqttPki pki = MqttPki.create(tmp.resolve("tls"));
        Path store = tmp.resolve("trust.p12");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try (var in = Files.newInputStream(pki.caCert())) {
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        try (var out = Files.newOutputStream(store)) {
            ks.store(out, "changeit".toCharArray());
        }
        HttpsServer named = httpsServer(pki, "127.0.0.1");
        HttpsServer unnamed = httpsServer(pki, "127.0.0.2");
        try {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Djavax.net.ssl.trustStore=" + store, "-Djavax.net.ssl.trustStorePassword=changeit", "-Djavax.net.ssl.trustStoreType=PKCS12",
                    "-cp", System.getProperty("java.class.path"), Fetch.class.getName(),
                    "https://127.0.0.1:" + named.getAddress().getPort() + "/b",
                    "https://127.0.0.2:" + unnamed.getAddress().getPort() + "/b"));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the fetching JVM ended").isTrue();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("https://127.0.0.1:" + named.getAddress().getPort() + "/b 200 served")
                    .contains("https://127.0.0.2:" + unnamed.getAddress().getPort() + "/b SSLHandshakeException");
        } finally {
            named.stop(0);
            unnamed.stop(0);
        }
    }

    static HttpsServer httpsServer(MqttPki pki, String address) throws Exception {
        HttpsServer server = HttpsServer.create(new InetSocketAddress(address, 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(new TlsFiles(pki.caCert(), pki.serverCert(), pki.serverKey()).sslContext()));
        server.createContext("/b", ex -> {
            byte[] body = "served".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        return server;
    }

    /** Run in its own JVM: fetches each URL through a {@link LazyDefaultTls} client; prints "URL STATUS BODY" or "URL EXCEPTION". */
    public static final class Fetch {
        public static void main(String[] urls) throws InterruptedException {
            HttpClient c = client(LazyDefaultTls.create());
            for (String u : urls) {
                try {
                    HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(u)).build(), HttpResponse.BodyHandlers.ofString());
                    System.out.println(u + " " + r.statusCode() + " " + r.body());
                } catch (IOException e) {
                    System.out.println(u + " " + e.getClass().getSimpleName() + " " + e.getMessage());
                }
            }
        }
    }
}
