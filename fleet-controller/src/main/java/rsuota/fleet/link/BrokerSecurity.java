package rsuota.fleet.link;

import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.auth.SimpleAuthenticator;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthInput;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthOutput;
import com.hivemq.extension.sdk.api.auth.parameter.TopicPermission;
import com.hivemq.extension.sdk.api.client.parameter.ClientTlsInformation;
import com.hivemq.extension.sdk.api.interceptor.publish.PublishInboundInterceptor;
import com.hivemq.extension.sdk.api.packets.auth.DefaultAuthorizationBehaviour;
import com.hivemq.extension.sdk.api.packets.connect.ConnackReasonCode;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;
import com.hivemq.extension.sdk.api.services.builder.Builders;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.fleet.pki.DeviceCa;
import rsuota.wire.TlsMaterial;
import rsuota.wire.Topics;

/**
 * Who may do what on the embedded broker (docs/security.md, "Device identity on the broker"); an
 * in-process HiveMQ extension.
 * <ul>
 *   <li>TLS listener: the client certificate (chain checked by HiveMQ against the device CA) must
 *       not be on the CA's CRL, which is re-read whenever it changes, so a revoked unit is refused
 *       at its next connect; the client id must equal the certificate's CN. A device may publish
 *       only its own {@code state}, {@code events}, {@code presence} and subscribe only to its own
 *       {@code desired} and {@code cmd}; everything else is denied. A certificate with OU
 *       {@code controller} may read and write every device topic (shared subscriptions too).</li>
 *   <li>Plain listener: only from a loopback address (the lab, tools on the controller's host);
 *       such clients are trusted like the controller. Anything else is refused.</li>
 *   <li>Every publish of a unit is stamped with the user property {@value #SENDER} = the CN of its
 *       certificate (any value a client sent is dropped), so the ingest can refuse a message whose
 *       topic names another unit than its sender ({@code TelemetryIngest.Refusal.SENDER_MISMATCH}),
 *       a second line behind the permissions.</li>
 * </ul>
 */
public final class BrokerSecurity implements ExtensionMain {
    private static final Logger log = LoggerFactory.getLogger(BrokerSecurity.class);
    /** MQTT 5 user property carrying the authenticated sender of a publish. */
    public static final String SENDER = "rsuota-sender";
    /** Connection attribute naming the unit a TLS client's certificate identifies. */
    private static final String DEVICE_ATTRIBUTE = "rsuota.device";

    private final Path crlFile;
    private final java.security.cert.X509Certificate caCert;
    private volatile X509CRL crl;
    private volatile FileTime crlTime;

    /**
     * @param crlFile the device CA's CRL (PEM), or null when there is no TLS listener
     * @param caCert  the CA that must have signed the CRL (null with crlFile)
     */
    public BrokerSecurity(Path crlFile, X509Certificate caCert) {
        this.crlFile = crlFile;
        this.caCert = caCert;
    }

    @Override
    public void extensionStart(ExtensionStartInput in, ExtensionStartOutput out) {
        SimpleAuthenticator authenticator = this::authenticate;
        Services.securityRegistry().setAuthenticatorProvider(i -> authenticator);
        PublishInboundInterceptor stamp = (input, output) -> {
            var props = output.getPublishPacket().getUserProperties();
            // Whatever a client claims is dropped; only a unit's certificate speaks for it.
            props.removeName(SENDER);
            input.getConnectionInformation().getConnectionAttributeStore().getAsString(DEVICE_ATTRIBUTE)
                    .ifPresent(device -> props.addUserProperty(SENDER, device));
        };
        Services.initializerRegistry().setClientInitializer((input, context) -> context.addPublishInboundInterceptor(stamp));
    }

    @Override
    public void extensionStop(ExtensionStopInput in, ExtensionStopOutput out) {
        // Nothing held: HiveMQ drops the providers with the extension.
    }

    private void authenticate(SimpleAuthInput in, SimpleAuthOutput out) {
        var conn = in.getConnectionInformation();
        String clientId = in.getClientInformation().getClientId();
        X509Certificate cert = conn.getClientTlsInformation().flatMap(ClientTlsInformation::getClientCertificate).orElse(null);
        if (cert == null) {
            boolean loopback = conn.getInetAddress().map(InetAddress::isLoopbackAddress).orElse(false);
            if (!loopback || conn.getTlsInformation().isPresent()) {
                refuse(out, clientId, ConnackReasonCode.NOT_AUTHORIZED,
                        "no client certificate: connect over TLS with a certificate from the fleet's device CA");
                return;
            }
            out.getDefaultPermissions().setDefaultBehaviour(DefaultAuthorizationBehaviour.ALLOW);
            out.authenticateSuccessfully();
            return;
        }
        String cn = TlsMaterial.commonName(cert);
        X509CRL current = crl();
        if (current == null) {
            refuse(out, clientId, ConnackReasonCode.SERVER_UNAVAILABLE, "the device CA's CRL " + crlFile + " cannot be read; refusing every certificate until it can");
            return;
        }
        if (current.isRevoked(cert)) {
            refuse(out, clientId, ConnackReasonCode.NOT_AUTHORIZED, "certificate " + cert.getSerialNumber().toString(16) + " of '" + cn + "' is revoked");
            return;
        }
        if (cn == null || !cn.equals(clientId)) {
            refuse(out, clientId, ConnackReasonCode.CLIENT_IDENTIFIER_NOT_VALID,
                    "client id '" + clientId + "' differs from the certificate's CN '" + cn + "': a unit connects with its own device id");
            return;
        }
        var perms = out.getDefaultPermissions();
        perms.setDefaultBehaviour(DefaultAuthorizationBehaviour.DENY);
        if (DeviceCa.ROLE_CONTROLLER.equals(DeviceCa.roleOf(cert))) {
            perms.add(permission(Topics.PREFIX + "#", TopicPermission.MqttActivity.ALL));
        } else if (Topics.DEVICE_ID.matcher(cn).matches()) {
            for (String t : List.of(Topics.state(cn), Topics.events(cn), Topics.presence(cn))) perms.add(permission(t, TopicPermission.MqttActivity.PUBLISH));
            for (String t : List.of(Topics.desired(cn), Topics.cmd(cn))) perms.add(permission(t, TopicPermission.MqttActivity.SUBSCRIBE));
            conn.getConnectionAttributeStore().putAsString(DEVICE_ATTRIBUTE, cn);
        } else {
            refuse(out, clientId, ConnackReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "CN '" + cn + "' is not a device id");
            return;
        }
        out.authenticateSuccessfully();
    }

    private static TopicPermission permission(String filter, TopicPermission.MqttActivity activity) {
        return Builders.topicPermission().topicFilter(filter).type(TopicPermission.PermissionType.ALLOW).activity(activity).build();
    }

    private static void refuse(SimpleAuthOutput out, String clientId, ConnackReasonCode code, String why) {
        log.warn("mqtt: refused client '{}': {}", clientId, why);
        out.failAuthentication(code, why);
    }

    /** The CRL, re-read when the file changes; null (refuse everyone) when it is unreadable or not signed by the CA. */
    private X509CRL crl() {
        if (crlFile == null) return null;
        try {
            FileTime t = Files.getLastModifiedTime(crlFile);
            if (crl == null || !t.equals(crlTime)) {
                synchronized (this) {
                    X509CRL c = DeviceCa.readCrl(crlFile);
                    c.verify(caCert.getPublicKey());
                    crl = c;
                    crlTime = t;
                    log.info("device CA CRL loaded from {}: {} revoked", crlFile, c.getRevokedCertificates() == null ? 0 : c.getRevokedCertificates().size());
                }
            }
            return crl;
        } catch (DeviceCa.CaException | java.io.IOException | java.security.GeneralSecurityException e) {
            // Fail closed: a CRL that cannot be checked must not let a revoked unit in.
            log.error("mqtt: device CA CRL {} unusable: {}", crlFile, e.toString());
            crl = null;
            crlTime = null;
            return null;
        }
    }
}
