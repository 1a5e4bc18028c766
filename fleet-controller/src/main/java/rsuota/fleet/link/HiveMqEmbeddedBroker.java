package rsuota.fleet.link;

import com.hivemq.embedded.EmbeddedExtension;
import com.hivemq.embedded.EmbeddedHiveMQ;
import java.io.IOException;
import java.net.InetAddress;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import rsuota.bundle.Pem;
import rsuota.fleet.pki.DeviceCa;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * HiveMQ CE embedded in the controller's JVM, for a zero-setup controller and the lab. Our own
 * configuration, not the bundled one (which binds 0.0.0.0:1883 with usage statistics on): a
 * loopback listener by default, in-memory persistence (the controller re-publishes desired
 * states after every connect, see {@code DesiredStatePublisher}), statistics off, and HiveMQ's
 * own logging bootstrap skipped so it logs through the controller's logback.
 */
public final class HiveMqEmbeddedBroker implements MqttBroker {
    /** HiveMQ needs ~2.4 s here; a cold JIT on a busy CI box takes longer. */
    private static final long START_TIMEOUT_S = 60;
    /**
     * In-flight messages HiveMQ lets each client have towards it (announced as Receive Maximum).
     * The default of 10 would throttle the controller's own re-publish of thousands of retained
     * desired states; devices publish far below it anyway.
     */
    static final int RECEIVE_MAXIMUM = 200;

    private final EmbeddedHiveMQ hive;
    private final String uri;
    private final String tlsUri;

    private HiveMqEmbeddedBroker(EmbeddedHiveMQ hive, String uri, String tlsUri) {
        this.hive = hive;
        this.uri = uri;
        this.tlsUri = tlsUri;
    }

    /**
     * The listeners: a plain one (loopback only: anonymous clients there are trusted like the
     * controller) and/or a TLS one with required client certificates from the device CA.
     *
     * @param plainHost loopback address of the plain listener, or null for none
     * @param plainPort its port (1883 by convention)
     * @param ca        the device CA (null: no TLS listener)
     * @param tlsHost   TLS listener bind address (0.0.0.0 for units on the network)
     * @param tlsPort   its port (8883 by convention)
     */
    public record Listeners(String plainHost, int plainPort, DeviceCa ca, String tlsHost, int tlsPort) {
        public Listeners {
            if (plainHost == null && ca == null) throw new IllegalArgumentException("the broker needs a plain or a TLS listener");
        }

        public static Listeners plain(String host, int port) {
            return new Listeners(host, port, null, null, 0);
        }
    }

    /**
     * Starts a broker with its folders under {@code dir}.
     *
     * @param host address to bind (127.0.0.1 unless devices on the network must reach it)
     * @param port port (1883 by convention)
     */
    public static HiveMqEmbeddedBroker start(Path dir, String host, int port) throws IOException {
        return start(dir, Listeners.plain(host, port));
    }

    /** Starts a broker with its folders under {@code dir} and the given listeners. */
    public static HiveMqEmbeddedBroker start(Path dir, Listeners listeners) throws IOException {
        if (listeners.plainHost() != null && !InetAddress.getByName(listeners.plainHost()).isLoopbackAddress()) {
            throw new IOException("the plain MQTT listener would bind " + listeners.plainHost() + ", but it accepts anonymous clients and"
                    + " serves only loopback; units on the network connect over TLS with device certificates (--device-ca DIR"
                    + " --mqtt-tls-port 8883, docs/security.md)");
        }
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Path data = Files.createDirectories(dir.resolve("data"));
        Path ext = Files.createDirectories(dir.resolve("extensions"));
        String tls = listeners.ca() == null ? "" : tlsListener(conf, listeners);
        Files.writeString(conf.resolve("config.xml"), config(listeners, tls), StandardCharsets.UTF_8);
        X509Certificate caCert = null;
        if (listeners.ca() != null) {
            try {
                caCert = Pem.certificate(listeners.ca().caCert());
            } catch (Pem.PemException e) {
                throw new IOException("device CA certificate " + listeners.ca().caCert() + ": " + e.getMessage(), e);
            }
        }
        EmbeddedExtension security = EmbeddedExtension.builder().withId("rsuota-broker-security").withName("RSU OTA device identity")
                .withVersion("1").withPriority(1000).withStartPriority(1000).withAuthor("RSU OTA")
                .withExtensionMain(new BrokerSecurity(listeners.ca() == null ? null : listeners.ca().crl(), caCert)).build();
        EmbeddedHiveMQ hive = EmbeddedHiveMQ.builder().withConfigurationFolder(conf).withDataFolder(data).withExtensionsFolder(ext)
                .withEmbeddedExtension(security).withoutLoggingBootstrap().build();
        String host = listeners.plainHost() != null ? listeners.plainHost() : listeners.tlsHost();
        int port = listeners.plainHost() != null ? listeners.plainPort() : listeners.tlsPort();
        try {
            hive.start().get(START_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            closeQuietly(hive);
            throw new IOException("embedded HiveMQ did not start on " + host + ":" + port + ": " + (e.getCause() != null ? e.getCause() : e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(hive);
            throw new IOException("interrupted while starting the embedded broker", e);
        }
        String uri = listeners.plainHost() != null ? "tcp://" + bracket(listeners.plainHost()) + ":" + listeners.plainPort() : null;
        String tlsUri = listeners.ca() != null ? "ssl://" + bracket(loopbackFor(listeners.tlsHost())) + ":" + listeners.tlsPort() : null;
        return new HiveMqEmbeddedBroker(hive, uri, tlsUri);
    }

    private static String bracket(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    /** Where the controller itself reaches a listener bound to {@code host}: the wildcard is reached through loopback. */
    private static String loopbackFor(String host) {
        return host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
    }

    /**
     * Writes the broker's key and the CA into PKCS#12 stores under {@code conf} (HiveMQ reads
     * key stores, not PEM), with a fresh random password each start, readable by this user only.
     */
    private static String tlsListener(Path conf, Listeners l) throws IOException {
        DeviceCa ca = l.ca();
        char[] pass = new char[24];
        var random = new java.security.SecureRandom();
        for (int i = 0; i < pass.length; i++) pass[i] = (char) ('a' + random.nextInt(26));
        Path keystore = conf.resolve("broker-keystore.p12");
        Path truststore = conf.resolve("broker-truststore.p12");
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            List<X509Certificate> chain = new java.util.ArrayList<>(Pem.certificates(ca.brokerCert()));
            chain.addAll(Pem.certificates(ca.caCert()));
            ks.setKeyEntry("broker", Pem.privateKey(ca.brokerKey()), pass, chain.toArray(new X509Certificate[0]));
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            ts.setCertificateEntry("device-ca", Pem.certificate(ca.caCert()));
            store(ks, keystore, pass);
            store(ts, truststore, pass);
        } catch (Pem.PemException | java.security.GeneralSecurityException e) {
            throw new IOException("device CA " + ca.dir() + ": the broker's certificate, key or CA do not form a usable TLS identity: " + e.getMessage(), e);
        }
        String p = new String(pass);
        return """
                    <tls-tcp-listener>
                      <port>%d</port><bind-address>%s</bind-address><name>devices-tls</name>
                      <tls>
                        <keystore><path>%s</path><password>%s</password><private-key-password>%s</private-key-password></keystore>
                        <truststore><path>%s</path><password>%s</password></truststore>
                        <client-authentication-mode>REQUIRED</client-authentication-mode>
                        <protocols><protocol>TLSv1.3</protocol><protocol>TLSv1.2</protocol></protocols>
                      </tls>
                    </tls-tcp-listener>
                """.formatted(l.tlsPort(), l.tlsHost(), keystore, p, p, truststore, p);
    }

    private static void store(KeyStore ks, Path file, char[] pass) throws IOException, java.security.GeneralSecurityException {
        Files.deleteIfExists(file);
        Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try (var out = Files.newOutputStream(file)) {
            ks.store(out, pass);
        }
    }

    static String config(String host, int port) {
        return config(Listeners.plain(host, port), "");
    }

    static String config(Listeners l, String tls) {
        String plain = l.plainHost() == null ? ""
                : "    <tcp-listener><port>%d</port><bind-address>%s</bind-address><name>loopback</name></tcp-listener>\n".formatted(l.plainPort(), l.plainHost());
        return """
                <?xml version="1.0"?>
                <hivemq>
                  <listeners>
                %s%s  </listeners>
                  <mqtt>
                    <receive-maximum><server-receive-maximum>%d</server-receive-maximum></receive-maximum>
                  </mqtt>
                  <persistence><mode>in-memory</mode></persistence>
                  <anonymous-usage-statistics><enabled>false</enabled></anonymous-usage-statistics>
                </hivemq>
                """.formatted(plain, tls, RECEIVE_MAXIMUM);
    }

    /** The plain loopback listener (tcp://), or the TLS one (ssl://) when there is no plain listener. */
    @Override
    public String uri() {
        return uri != null ? uri : tlsUri;
    }

    /** The TLS listener as the controller reaches it (ssl://), or null without one. */
    public String tlsUri() {
        return tlsUri;
    }

    @Override
    public void close() {
        try {
            hive.stop().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("embedded HiveMQ did not stop cleanly: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(hive);
        }
    }

    private static void closeQuietly(EmbeddedHiveMQ hive) {
        try {
            hive.close();
        } catch (Exception e) {
            // EmbeddedHiveMQ.close() declares Exception; a broker failing to close has nothing left to release for us.
        }
    }
}
