package rsuota.agent.link;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.bundle.Pem;

/**
 * The device's TLS material as PEM files: the private CA that signed the broker's certificate,
 * the device certificate (optionally followed by its chain) and its PKCS#8 key. Only the JDK's
 * providers are used (no BouncyCastle provider: ~20 MB RSS, FIELD-NOTES).
 */
public record TlsFiles(Path caCert, Path clientCert, Path clientKey) {

    /** Builds a TLS context that trusts only {@code caCert} and presents the client certificate. */
    public SSLContext sslContext() throws AgentException {
        try {
            List<X509Certificate> cas = Pem.certificates(caCert);
            List<X509Certificate> chain = Pem.certificates(clientCert);
            PrivateKey key = Pem.privateKey(clientKey);
            // In-memory stores only: nothing key-related is written anywhere.
            char[] pass = new char[0];
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("device", key, pass, chain.toArray(new X509Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pass);
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            for (int i = 0; i < cas.size(); i++) ts.setCertificateEntry("ca" + i, cas.get(i));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (Pem.PemException e) {
            throw new AgentException(AgentError.BAD_CONFIG, "TLS files: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new AgentException(AgentError.BAD_CONFIG, "TLS files cannot be read: " + e, e);
        } catch (GeneralSecurityException e) {
            throw new AgentException(AgentError.BAD_CONFIG,
                    "TLS key " + clientKey + " does not fit certificate " + clientCert + " or CA " + caCert + ": " + e.getMessage(), e);
        }
    }
}
