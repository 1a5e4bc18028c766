package rsuota.wire;

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
import rsuota.bundle.Pem;

/**
 * The TLS material of one MQTT (or HTTPS) endpoint as PEM files: the private CA that signed the
 * other side's certificate, this side's certificate (optionally followed by its chain) and its
 * PKCS#8 key. Used by the agent (device identity) and the controller (its own identity towards the
 * broker). Only the JDK's providers are used (no BouncyCastle provider: ~20 MB RSS, FIELD-NOTES).
 */
public record TlsMaterial(Path caCert, Path cert, Path key) {

    /** The files cannot be read, or do not fit together; the message names the file and what to do. */
    public static final class TlsFileException extends Exception {
        public TlsFileException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The certificate's CN, or null when it has none: the MQTT identity of a unit or a controller
     * (brokers take it as the user name and want it as the client id, docs/security.md).
     */
    public static String commonName(X509Certificate cert) {
        try {
            var ldap = new javax.naming.ldap.LdapName(cert.getSubjectX500Principal().getName());
            for (var rdn : ldap.getRdns()) if (rdn.getType().equalsIgnoreCase("CN")) return rdn.getValue().toString();
        } catch (javax.naming.InvalidNameException e) {
            // The JDK produced this RFC 2253 name itself; a name it cannot parse back has no CN we could trust.
        }
        return null;
    }

    /** Builds a TLS context that trusts only {@code caCert} and presents {@code cert}. */
    public SSLContext sslContext() throws TlsFileException {
        try {
            List<X509Certificate> cas = Pem.certificates(caCert);
            List<X509Certificate> chain = Pem.certificates(cert);
            PrivateKey pk = Pem.privateKey(key);
            // In-memory stores only: nothing key-related is written anywhere.
            char[] pass = new char[0];
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("self", pk, pass, chain.toArray(new X509Certificate[0]));
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
            throw new TlsFileException("TLS files: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new TlsFileException("TLS files cannot be read: " + e, e);
        } catch (GeneralSecurityException e) {
            throw new TlsFileException("TLS key " + key + " does not fit certificate " + cert + " or CA " + caCert + ": " + e.getMessage(), e);
        }
    }
}
