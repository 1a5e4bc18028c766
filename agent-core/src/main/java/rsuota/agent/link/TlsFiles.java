package rsuota.agent.link;

import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.wire.TlsMaterial;

/**
 * The device's TLS material as PEM files: the private CA that signed the broker's certificate,
 * the device certificate (optionally followed by its chain; its CN is the device id, which the
 * broker checks against the client id) and its PKCS#8 key. Built by {@link TlsMaterial}.
 */
public record TlsFiles(Path caCert, Path clientCert, Path clientKey) {

    /** Builds a TLS context that trusts only {@code caCert} and presents the client certificate. */
    public SSLContext sslContext() throws AgentException {
        try {
            return new TlsMaterial(caCert, clientCert, clientKey).sslContext();
        } catch (TlsMaterial.TlsFileException e) {
            throw new AgentException(AgentError.BAD_CONFIG, e.getMessage(), e);
        }
    }
}
