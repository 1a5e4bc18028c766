package rsuota.fleet.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.bundle.Pem;
import rsuota.fleet.link.HiveMqEmbeddedBroker;

/** The device CA's files and refusals; the broker-facing behaviour is in DeviceIdentityOnBrokerTest. */
class DeviceCaTest {
    @TempDir
    Path dir;

    @Test
    void issuesIdentitiesWhoseCnIsTheDeviceIdAndRevocationLandsInTheSignedCrl() throws Exception {
        DeviceCa ca = DeviceCa.init(dir.resolve("ca"), List.of("broker.example.net", "10.1.2.3"), Clock.systemUTC());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.dir().resolve("ca.key")))).isEqualTo("rw-------");
        X509Certificate broker = Pem.certificate(ca.brokerCert());
        assertThat(broker.getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList()).contains("broker.example.net", "10.1.2.3");

        DeviceCa.Identity a = ca.issue("rsu-0001", DeviceCa.ROLE_DEVICE, dir.resolve("out-a"));
        X509Certificate cert = Pem.certificate(a.cert());
        assertThat(rsuota.wire.TlsMaterial.commonName(cert)).isEqualTo("rsu-0001");
        assertThat(DeviceCa.roleOf(cert)).isEqualTo(DeviceCa.ROLE_DEVICE);
        cert.verify(Pem.certificate(ca.caCert()).getPublicKey());
        assertThat(DeviceCa.roleOf(Pem.certificate(ca.controller().cert()))).isEqualTo(DeviceCa.ROLE_CONTROLLER);
        ca.issue("rsu-0001", DeviceCa.ROLE_DEVICE, dir.resolve("out-a2"));

        assertThat(ca.revoke("rsu-0001")).hasSize(2);
        X509CRL crl = DeviceCa.readCrl(ca.crl());
        crl.verify(Pem.certificate(ca.caCert()).getPublicKey());
        assertThat(crl.isRevoked(cert)).isTrue();
        assertThat(crl.isRevoked(Pem.certificate(ca.controller().cert()))).isFalse();
        assertThat(ca.list()).filteredOn(DeviceCa.Issued::revoked).extracting(DeviceCa.Issued::cn).containsOnly("rsu-0001");
    }

    @Test
    void badRequestsAreRefusedNamingWhatToDoAndChangeNothing() throws Exception {
        DeviceCa ca = DeviceCa.init(dir.resolve("ca"), List.of("localhost"), Clock.systemUTC());
        assertThatThrownBy(() -> DeviceCa.init(dir.resolve("ca"), List.of("localhost"), Clock.systemUTC()))
                .hasMessageContaining("is not empty").hasMessageContaining("orphan");
        assertThatThrownBy(() -> ca.issue("../etc", DeviceCa.ROLE_DEVICE, dir.resolve("o"))).hasMessageContaining("is not a device id");
        assertThatThrownBy(() -> ca.issue("rsu-fleet-controller-2", DeviceCa.ROLE_DEVICE, dir.resolve("o"))).hasMessageContaining("reserved for controllers");
        ca.issue("rsu-0002", DeviceCa.ROLE_DEVICE, dir.resolve("o"));
        String before = Files.readString(dir.resolve("o").resolve("rsu-0002.pem"));
        assertThatThrownBy(() -> ca.issue("rsu-0002", DeviceCa.ROLE_DEVICE, dir.resolve("o"))).hasMessageContaining("exists; give an empty --out");
        assertThat(Files.readString(dir.resolve("o").resolve("rsu-0002.pem"))).isEqualTo(before);
        assertThatThrownBy(() -> ca.revoke("rsu-9999")).hasMessageContaining("no certificate was issued to 'rsu-9999'");
        ca.revoke("rsu-0002");
        assertThatThrownBy(() -> ca.revoke("rsu-0002")).hasMessageContaining("revoked already");
        Files.delete(ca.crl());
        assertThatThrownBy(() -> DeviceCa.open(ca.dir(), Clock.systemUTC())).hasMessageContaining("crl.pem is missing");
    }

    @Test
    void mosquittoConfigConfinesUnitsByCertificateAndListsOnlyLiveControllers() throws Exception {
        DeviceCa ca = DeviceCa.init(dir.resolve("ca"), List.of("localhost"), Clock.systemUTC());
        ca.issue("rsu-fleet-controller-2", DeviceCa.ROLE_CONTROLLER, dir.resolve("c2"));
        ca.issue("rsu-fleet-controller-3", DeviceCa.ROLE_CONTROLLER, dir.resolve("c3"));
        ca.revoke("rsu-fleet-controller-3");
        MosquittoConfig.Files f = MosquittoConfig.write(ca, dir.resolve("m"), "0.0.0.0", 8883, "mosquitto");
        String conf = Files.readString(f.conf());
        assertThat(conf).contains("require_certificate true", "use_identity_as_username true", "use_username_as_clientid true",
                "allow_anonymous false", "crlfile " + ca.crl().toAbsolutePath(), "listener 8883 0.0.0.0");
        String acl = Files.readString(f.acl());
        assertThat(acl).contains("pattern write rsu/v1/dev/%u/state", "pattern read rsu/v1/dev/%u/desired",
                "user rsu-fleet-controller\n", "user rsu-fleet-controller-2\n").doesNotContain("rsu-fleet-controller-3");
        assertThatThrownBy(() -> MosquittoConfig.write(ca, dir.resolve("m"), "0.0.0.0", 70000, "mosquitto")).hasMessageContaining("1..65535");
    }

    @Test
    void thePlainAnonymousListenerRefusesToBindAnythingButLoopback() {
        assertThatThrownBy(() -> HiveMqEmbeddedBroker.start(dir.resolve("b"), "0.0.0.0", 1883))
                .hasMessageContaining("serves only loopback").hasMessageContaining("--mqtt-tls-port");
    }
}
