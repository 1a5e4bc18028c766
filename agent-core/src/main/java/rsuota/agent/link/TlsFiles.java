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

    /**
     * Checks that the device certificate names {@code deviceId} as its CN: the broker takes the CN
     * as the unit's identity and refuses a client id that differs (docs/security.md), so a mismatch
     * would only show as endless refused connects. Returns null when it fits, else what is wrong.
     */
    public String identityProblem(String deviceId) {
        String cn;
        try {
            cn = TlsMaterial.commonName(rsuota.bundle.Pem.certificate(clientCert));
        } catch (rsuota.bundle.Pem.PemException | java.io.IOException e) {
            return "link.tls.cert " + clientCert + " cannot be read: " + e.getMessage();
        }
        if (cn == null) return "link.tls.cert " + clientCert + " has no CN; the broker identifies a unit by its certificate's CN";
        return cn.equals(deviceId) ? null : "link.tls.cert " + clientCert + " is issued to '" + cn + "', but device.id is '" + deviceId
                + "': the broker only accepts a unit whose client id is its certificate's CN (issue one with"
                + " 'fleet-controller device-ca issue " + deviceId + "')";
    }

    /** Builds a TLS context that trusts only {@code caCert} and presents the client certificate. */
    public SSLContext sslContext() throws AgentException {
        try {
            return new TlsMaterial(caCert, clientCert, clientKey).sslContext();
        } catch (TlsMaterial.TlsFileException e) {
            throw new AgentException(AgentError.BAD_CONFIG, e.getMessage(), e);
        }
    }
}
