package rsuota.agent.download;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.cli.RsuAgent;
import rsuota.agent.link.TlsFiles;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.mqtt.MqttPki;
import rsuota.fixtures.pki.TestPki;

/**
 * The downloader over HTTP/2: a Jetty server that speaks only h2 (TLS with ALPN, no HTTP/1.1
 * fallback) serves the bundle by Range; the install verifies, every request was HTTP/2, and a
 * connection cut mid-body is resumed on a new HTTP/2 connection.
 */
class Http2DownloadTest {
    static final TestPki PKI = new TestPki();
    static final Pattern RANGE = HttpsDownloadTest.RANGE;
    @TempDir Path tmp;

    @Test
    void installOverHttp2WithTlsAndAlpnResumingAfterACut() throws Exception {
        Path bundle = new BundleBuilder(tmp).signedBy(PKI, PKI.signer).image("rootfs", 600_000).chunkSize(64 * 1024).build("h2.rsub");
        byte[] bytes = Files.readAllBytes(bundle);
        MqttPki tls = MqttPki.create(tmp.resolve("tls"));
        List<HttpVersion> versions = new CopyOnWriteArrayList<>();
        int[] cutOnce = {1};

        Server server = new Server();
        HttpConfiguration cfg = new HttpConfiguration();
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false);
        cfg.addCustomizer(secure);
        HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(cfg);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory("h2");
        alpn.setDefaultProtocol("h2");
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setSslContext(new TlsFiles(tls.caCert(), tls.serverCert(), tls.serverKey()).sslContext());
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, alpn.getProtocol()), alpn, h2);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                versions.add(request.getConnectionMetaData().getHttpVersion());
                Matcher m = RANGE.matcher(String.valueOf(request.getHeaders().get(HttpHeader.RANGE)));
                if (!m.matches()) {
                    Response.writeError(request, response, callback, 400);
                    return true;
                }
                int a = Integer.parseInt(m.group(1));
                int b = Math.min(Integer.parseInt(m.group(2)), bytes.length - 1);
                response.setStatus(206);
                response.getHeaders().put(HttpHeader.CONTENT_RANGE, "bytes " + a + "-" + b + "/" + bytes.length);
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, b - a + 1);
                if (a > 100_000 && cutOnce[0]-- > 0) {
                    // half the body, then the connection is gone: the client must resume by Range
                    response.write(false, ByteBuffer.wrap(bytes, a, (b - a + 1) / 2), Callback.from(() -> {
                        request.getConnectionMetaData().getConnection().getEndPoint().close();
                        callback.failed(new java.io.IOException("cut by the test"));
                    }, callback::failed));
                    return true;
                }
                response.write(true, ByteBuffer.wrap(bytes, a, b - a + 1), callback);
                return true;
            }
        });
        server.start();
        try {
            String url = "https://127.0.0.1:" + connector.getLocalPort() + "/h2.rsub";
            Path conf = HttpsDownloadTest.simDevice(tmp, PKI);
            Files.writeString(conf, "download.retry.base=10ms\ndownload.tls.ca=" + tls.caCert() + "\n", StandardOpenOption.APPEND);
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int rc = RsuAgent.run(new String[] {"--config", conf.toString(), "install", url, "--download-only"},
                    new PrintWriter(out, true), new PrintWriter(err, true));
            assertThat(rc).as(err.toString()).isZero();
            assertThat(out.toString()).contains("verified: release");
            assertThat(cutOnce[0]).as("the cut happened").isNegative();
            // header + 10 chunks of 64 KiB + the resumed one
            assertThat(versions).hasSizeGreaterThanOrEqualTo(12).containsOnly(HttpVersion.HTTP_2);
            long fetched = Long.parseLong(out.toString().replaceAll("(?s).*; (\\d+) bytes fetched\\).*", "$1"));
            assertThat(fetched).as("within the bundle size + one chunk for the cut + the header request")
                    .isLessThanOrEqualTo(bytes.length + 64 * 1024 + 32 * 1024);
        } finally {
            server.stop();
        }
    }
}
