package rsuota.fleet.pki;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;

/**
 * The Mosquitto (2.x) listener and ACL for a site that runs its own broker, the same rules the
 * embedded broker enforces (docs/security.md): TLS 1.2+ with a required client certificate from the
 * device CA, checked against its CRL; the CN becomes the user name ({@code use_identity_as_username})
 * and the client id ({@code use_username_as_clientid}, so nobody can take over another unit's
 * session by claiming its client id); a unit reads only its own {@code desired}/{@code cmd} and
 * writes only its own {@code state}/{@code events}/{@code presence}; the controller identities
 * (unrevoked certificates with role controller) read and write every device topic.
 */
public final class MosquittoConfig {
    private MosquittoConfig() {}

    public record Files(Path conf, Path acl) {}

    /**
     * Writes {@code mosquitto.conf} and {@code rsuota.acl} into {@code out}.
     *
     * @param runAs the user Mosquitto drops to when started as root; it must be able to read the
     *              CA directory's broker key and CRL
     */
    public static Files write(DeviceCa ca, Path out, String bind, int port, String runAs) throws DeviceCa.CaException {
        if (port < 1 || port > 65535) throw new DeviceCa.CaException("--port " + port + ": a TCP port is 1..65535");
        TreeSet<String> controllers = new TreeSet<>();
        for (DeviceCa.Issued i : ca.list()) if (!i.revoked() && i.role().equals(DeviceCa.ROLE_CONTROLLER)) controllers.add(i.cn());
        StringBuilder acl = new StringBuilder();
        acl.append("# Written by 'fleet-controller broker-config mosquitto' from ").append(ca.dir().toAbsolutePath()).append(".\n");
        acl.append("# Units: the certificate's CN is the user name (%u), the client id and the device id.\n");
        acl.append("# Narrower than rsu/v1/dev/%u/#: a unit cannot even forge its own desired state or commands.\n");
        acl.append(aclPatterns());
        for (String c : controllers) acl.append("\nuser ").append(c).append("\ntopic readwrite rsu/v1/dev/#\n");
        StringBuilder conf = new StringBuilder();
        Path aclFile = out.resolve("rsuota.acl");
        conf.append("# Written by 'fleet-controller broker-config mosquitto' (docs/security.md). Re-run after issuing a controller identity;\n");
        conf.append("# after 'device-ca revoke', send Mosquitto SIGHUP (or restart it) so that it reads the new CRL.\n");
        conf.append("user ").append(runAs).append('\n');
        conf.append("per_listener_settings false\n");
        conf.append("allow_anonymous false\n");
        // Retained desired states must survive a broker restart (the controller also re-publishes them on connect).
        conf.append("persistence true\npersistence_location ").append(out.toAbsolutePath().resolve("data")).append("/\n");
        conf.append("listener ").append(port).append(' ').append(bind).append('\n');
        conf.append("cafile ").append(ca.caCert().toAbsolutePath()).append('\n');
        conf.append("certfile ").append(ca.brokerCert().toAbsolutePath()).append('\n');
        conf.append("keyfile ").append(ca.brokerKey().toAbsolutePath()).append('\n');
        conf.append("crlfile ").append(ca.crl().toAbsolutePath()).append('\n');
        conf.append("tls_version tlsv1.2\n");
        conf.append("require_certificate true\n");
        conf.append("use_identity_as_username true\n");
        conf.append("use_username_as_clientid true\n");
        conf.append("acl_file ").append(aclFile.toAbsolutePath()).append('\n');
        try {
            java.nio.file.Files.createDirectories(out.resolve("data"));
            Path confFile = out.resolve("mosquitto.conf");
            java.nio.file.Files.writeString(aclFile, acl, StandardCharsets.UTF_8);
            java.nio.file.Files.writeString(confFile, conf, StandardCharsets.UTF_8);
            return new Files(confFile, aclFile);
        } catch (IOException e) {
            throw new DeviceCa.CaException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    /** The per-unit rules, one line per topic a unit may use (docs/protocol.md shows the same). */
    static String aclPatterns() {
        return """
                pattern read rsu/v1/dev/%u/desired
                pattern read rsu/v1/dev/%u/cmd
                pattern write rsu/v1/dev/%u/state
                pattern write rsu/v1/dev/%u/events
                pattern write rsu/v1/dev/%u/presence
                """;
    }
}
