package rsuota.agent.config;

import java.security.KeyManagementException;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * The JDK's default TLS context ({@link SSLContext#getDefault()}: the JDK trust store, its protocols
 * and cipher suites), created on the first TLS connection instead of when an HTTP client is built.
 *
 * <p>Why: the JDK's {@code HttpClient} takes the default context in its constructor, even for plain
 * {@code http://} bundle URLs. That loads the TLS stack and parses the ~140 certificates of the trust
 * store: ~800 classes and ~9 MiB of peak RSS for an install that never speaks TLS (docs/benchmarks.md,
 * "Install peak RSS"). Every TLS connection still goes through the real default context: the same
 * trust, the same protocols and suites; the client sets host name verification itself.
 *
 * <p>{@link #initialized()} says whether the real context was created (tests).
 */
public final class LazyDefaultTls extends SSLContext {
    private final Spi spi;

    private LazyDefaultTls(Spi spi) {
        super(spi, null, "Default");
        this.spi = spi;
    }

    public static LazyDefaultTls create() {
        return new LazyDefaultTls(new Spi());
    }

    public boolean initialized() {
        return spi.real != null;
    }

    private static final class Spi extends SSLContextSpi {
        private volatile SSLContext real;

        private SSLContext real() {
            SSLContext r = real;
            if (r == null) {
                try {
                    r = SSLContext.getDefault();
                } catch (NoSuchAlgorithmException e) {
                    // The JDK's own default context: no JDK ships without it.
                    throw new IllegalStateException("the JDK has no default TLS context: " + e.getMessage(), e);
                }
                real = r;
            }
            return r;
        }

        @Override
        protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom sr) throws KeyManagementException {
            throw new KeyManagementException("the JDK's default TLS context cannot be re-initialised");
        }

        /**
         * Asked by the HTTP client when it is built. Cipher suites unset (null): the real context's
         * engine keeps its defaults when the client applies these parameters to a connection.
         * Protocols set, as the JDK's default client context sets them ({@code jdk.tls.client.protocols},
         * else TLS 1.3 and 1.2): the client offers HTTP/2 (ALPN) only when they name TLS 1.2 or 1.3.
         * Disabled algorithms ({@code jdk.tls.disabledAlgorithms}) still apply at the handshake.
         */
        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            SSLParameters p = new SSLParameters();
            p.setProtocols(defaultClientProtocols());
            return p;
        }

        static String[] defaultClientProtocols() {
            String configured = System.getProperty("jdk.tls.client.protocols");
            if (configured != null && !configured.isBlank()) {
                return java.util.Arrays.stream(configured.replace("\"", "").split(","))
                        .map(String::trim).filter(s -> !s.isEmpty()).toArray(String[]::new);
            }
            return new String[] {"TLSv1.3", "TLSv1.2"};
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return real().getSupportedSSLParameters();
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return real().getSocketFactory();
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return real().getServerSocketFactory();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return real().createSSLEngine();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return real().createSSLEngine(host, port);
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return real().getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return real().getClientSessionContext();
        }
    }
}
