package rsuota.fleet.pki;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import rsuota.bundle.Pem;
import rsuota.wire.Topics;

/**
 * The fleet's device CA: the private CA whose certificates are the MQTT identities of units and
 * controllers (docs/security.md, "Device identity on the broker"). One directory holds it:
 * <pre>
 *   ca.pem, ca.key        the CA (key 0600, EC P-256)
 *   broker.pem, .key      the broker's server certificate (SANs from init's --broker-name)
 *   controller.pem, .key  the controller's client identity (CN rsu-fleet-controller, OU controller)
 *   index.tsv             every certificate issued: serial, CN, role, not-after, revoked-at or -
 *   crl.pem               the CA-signed CRL of the revoked serials (Mosquitto's crlfile; the
 *                         embedded broker reads it at every connect)
 * </pre>
 * A site with its own PKI puts its CA, CRL, broker and controller files under the same names.
 * The certificate's CN is the MQTT client id and the device id; the OU says the role.
 */
public final class DeviceCa {
    public static final String CONTROLLER_IDENTITY = "rsu-fleet-controller";
    public static final String ROLE_DEVICE = "device";
    public static final String ROLE_CONTROLLER = "controller";
    /** Devices live for years in a cabinet; 825 days is the longest a browser-style policy allows and still forces one rotation per hardware cycle. */
    public static final Duration DEVICE_VALIDITY = Duration.ofDays(825);
    private static final Duration CA_VALIDITY = Duration.ofDays(3650);
    /** OpenSSL (Mosquitto) refuses every client once the CRL's nextUpdate passes: re-sign with {@code device-ca crl} within a year. */
    private static final Duration CRL_VALIDITY = Duration.ofDays(365);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What the directory holds for one issued certificate. */
    public record Issued(BigInteger serial, String cn, String role, Instant notAfter, Instant revokedAt) {
        public boolean revoked() {
            return revokedAt != null;
        }
    }

    /** Files written for a unit or a controller replica: what its TLS configuration points at. */
    public record Identity(Path caCert, Path cert, Path key, BigInteger serial) {}

    /** A refused CA operation: the message says what, where and what to do. */
    public static final class CaException extends Exception {
        public CaException(String message) {
            super(message);
        }

        public CaException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Path dir;
    private final Clock clock;

    private DeviceCa(Path dir, Clock clock) {
        this.dir = dir;
        this.clock = clock;
    }

    public Path dir() {
        return dir;
    }

    public Path caCert() {
        return dir.resolve("ca.pem");
    }

    public Path crl() {
        return dir.resolve("crl.pem");
    }

    public Path brokerCert() {
        return dir.resolve("broker.pem");
    }

    public Path brokerKey() {
        return dir.resolve("broker.key");
    }

    /** The controller's own client identity towards the broker. */
    public Identity controller() {
        return new Identity(caCert(), dir.resolve("controller.pem"), dir.resolve("controller.key"), null);
    }

    /** Opens an initialised CA directory. */
    public static DeviceCa open(Path dir, Clock clock) throws CaException {
        for (String f : List.of("ca.pem", "crl.pem", "broker.pem", "broker.key", "controller.pem", "controller.key")) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new CaException("device CA " + dir + ": " + f + " is missing; create the CA with 'fleet-controller device-ca init --dir "
                        + dir + "' (or put your own PKI's " + f + " there)");
            }
        }
        return new DeviceCa(dir, clock);
    }

    /**
     * Creates a CA in an empty (or absent) directory, with the broker's server certificate for
     * {@code brokerNames} (DNS names or IP addresses devices use to reach the broker) and the
     * controller's identity.
     */
    public static DeviceCa init(Path dir, List<String> brokerNames, Clock clock) throws CaException {
        if (brokerNames.isEmpty()) throw new CaException("give at least one --broker-name (the host name or address units connect to)");
        try {
            if (Files.exists(dir) && (!Files.isDirectory(dir) || Files.list(dir).findAny().isPresent())) {
                throw new CaException("device CA " + dir + " is not empty; a second init would orphan every certificate issued from it."
                        + " Use another directory, or delete this one only if no unit uses it");
            }
            Files.createDirectories(dir);
            DeviceCa ca = new DeviceCa(dir, clock);
            Instant now = clock.instant();
            KeyPair caKeys = ecKeys();
            X500Name name = new X500Name("CN=RSU OTA device CA,O=RSU OTA");
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(CA_VALIDITY)), name, caKeys.getPublic());
            JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(caKeys.getPublic()));
            X509Certificate caCert = sign(b, caKeys.getPrivate());
            writePrivate(dir.resolve("ca.key"), pem("PRIVATE KEY", caKeys.getPrivate().getEncoded()));
            Files.writeString(dir.resolve("ca.pem"), pem("CERTIFICATE", caCert.getEncoded()));
            Files.writeString(dir.resolve("index.tsv"), "", StandardCharsets.UTF_8);
            ca.leaf("rsu-ota-broker", "broker", "broker", KeyPurposeId.id_kp_serverAuth, brokerNames, CA_VALIDITY, dir);
            ca.leaf(CONTROLLER_IDENTITY, ROLE_CONTROLLER, "controller", KeyPurposeId.id_kp_clientAuth, List.of(), CA_VALIDITY, dir);
            ca.writeCrl();
            return ca;
        } catch (IOException e) {
            throw new CaException("device CA " + dir + ": cannot write: " + e.getMessage(), e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new CaException("device CA generation failed: " + e, e);
        }
    }

    /**
     * Issues a client certificate for {@code cn} into {@code out} as CN.pem, CN.key and ca.pem.
     * A unit may hold several (rotation); {@link #revoke} ends them all.
     */
    public Identity issue(String cn, String role, Path out) throws CaException {
        if (!Topics.DEVICE_ID.matcher(cn).matches()) {
            throw new CaException("'" + cn + "' is not a device id (letters, digits, . _ -, at most 64, starting with a letter or digit)");
        }
        if (!role.equals(ROLE_DEVICE) && !role.equals(ROLE_CONTROLLER)) throw new CaException("role '" + role + "': device or controller");
        if (role.equals(ROLE_DEVICE) && cn.startsWith(CONTROLLER_IDENTITY)) {
            throw new CaException("'" + cn + "' is reserved for controllers (" + CONTROLLER_IDENTITY + "*); pick another device id");
        }
        try {
            Files.createDirectories(out);
            Path crt = out.resolve(cn + ".pem");
            if (Files.exists(crt)) throw new CaException(crt + " exists; give an empty --out directory so that no unit's files are overwritten");
            BigInteger serial = leaf(cn, role, cn, KeyPurposeId.id_kp_clientAuth, List.of(), DEVICE_VALIDITY, out);
            Files.copy(caCert(), out.resolve("ca.pem"), StandardCopyOption.REPLACE_EXISTING);
            return new Identity(out.resolve("ca.pem"), crt, out.resolve(cn + ".key"), serial);
        } catch (IOException e) {
            throw new CaException("cannot write " + out + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new CaException("certificate for " + cn + " failed: " + e, e);
        }
    }

    /**
     * Revokes every unrevoked certificate issued to {@code cn} and re-signs the CRL; the broker
     * refuses them at their next connect. Returns the serials revoked now.
     */
    public List<BigInteger> revoke(String cn) throws CaException {
        List<Issued> all = list();
        List<BigInteger> now = new ArrayList<>();
        StringBuilder index = new StringBuilder();
        Instant at = clock.instant();
        for (Issued i : all) {
            Issued row = i;
            if (i.cn().equals(cn) && !i.revoked()) {
                row = new Issued(i.serial(), i.cn(), i.role(), i.notAfter(), at);
                now.add(i.serial());
            }
            index.append(line(row));
        }
        if (now.isEmpty()) {
            boolean known = all.stream().anyMatch(i -> i.cn().equals(cn));
            throw new CaException(known ? "every certificate of '" + cn + "' is revoked already" : "no certificate was issued to '" + cn
                    + "' by the CA in " + dir + " ('fleet-controller device-ca list --dir " + dir + "' shows who has one)");
        }
        try {
            rewrite(dir.resolve("index.tsv"), index.toString());
            writeCrl();
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new CaException("cannot update the index or CRL in " + dir + ": " + e.getMessage(), e);
        }
        return now;
    }

    /** Re-signs the CRL (same revoked serials, a fresh nextUpdate). */
    public void refreshCrl() throws CaException {
        try {
            writeCrl();
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new CaException("cannot write " + crl() + ": " + e.getMessage(), e);
        }
    }

    /** Every certificate issued, oldest first. */
    public List<Issued> list() throws CaException {
        Path index = dir.resolve("index.tsv");
        List<Issued> out = new ArrayList<>();
        try {
            if (!Files.exists(index)) return out;
            int n = 0;
            for (String l : Files.readAllLines(index, StandardCharsets.UTF_8)) {
                n++;
                if (l.isBlank()) continue;
                String[] f = l.split("\t");
                if (f.length != 5) throw new CaException(index + " line " + n + ": expected 5 tab-separated fields, found " + f.length);
                out.add(new Issued(new BigInteger(f[0], 16), f[1], f[2], Instant.parse(f[3]), f[4].equals("-") ? null : Instant.parse(f[4])));
            }
        } catch (IOException e) {
            throw new CaException("cannot read " + index + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new CaException(index + " is damaged: " + e.getMessage(), e);
        }
        return out;
    }

    /** Reads a PEM CRL (this CA's or a site PKI's). */
    public static X509CRL readCrl(Path file) throws CaException {
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII);
            int a = text.indexOf("-----BEGIN X509 CRL-----");
            int z = text.indexOf("-----END X509 CRL-----");
            if (a < 0 || z < a) throw new CaException(file + " holds no PEM 'X509 CRL' block");
            byte[] der = Base64.getMimeDecoder().decode(text.substring(a + 24, z));
            return (X509CRL) java.security.cert.CertificateFactory.getInstance("X.509").generateCRL(new java.io.ByteArrayInputStream(der));
        } catch (IOException e) {
            throw new CaException("cannot read CRL " + file + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new CaException("CRL " + file + " is not a valid X.509 CRL: " + e.getMessage(), e);
        }
    }

    private BigInteger leaf(String cn, String ou, String base, KeyPurposeId purpose, List<String> names, Duration validity, Path out)
            throws IOException, GeneralSecurityException, OperatorCreationException, CaException {
        X509Certificate caCert = certificate(caCert());
        PrivateKey caKey = privateKey();
        Instant now = clock.instant();
        KeyPair kp = ecKeys();
        BigInteger serial = serial();
        Instant notAfter = now.plus(validity).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        X500Name issuer = X500Name.getInstance(caCert.getSubjectX500Principal().getEncoded());
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial, Date.from(now.minus(Duration.ofHours(1))),
                Date.from(notAfter), new X500Name("CN=" + cn + ",OU=" + ou + ",O=RSU OTA"), kp.getPublic());
        JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(kp.getPublic()));
        b.addExtension(Extension.authorityKeyIdentifier, false, u.createAuthorityKeyIdentifier(caCert));
        if (!names.isEmpty()) {
            List<GeneralName> san = new ArrayList<>();
            for (String n : names) san.add(isAddress(n) ? new GeneralName(GeneralName.iPAddress, n) : new GeneralName(GeneralName.dNSName, n));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san.toArray(new GeneralName[0])));
        }
        X509Certificate cert = sign(b, caKey);
        writePrivate(out.resolve(base + ".key"), pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
        Files.writeString(out.resolve(base + ".pem"), pem("CERTIFICATE", cert.getEncoded()));
        if (!purpose.equals(KeyPurposeId.id_kp_serverAuth)) {
            Files.writeString(dir.resolve("index.tsv"), line(new Issued(serial, cn, ou, notAfter, null)), StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.APPEND);
        }
        return serial;
    }

    private void writeCrl() throws IOException, GeneralSecurityException, OperatorCreationException, CaException {
        X509Certificate caCert = certificate(caCert());
        Instant now = clock.instant();
        X509v2CRLBuilder b = new JcaX509v2CRLBuilder(caCert, Date.from(now));
        b.setNextUpdate(Date.from(now.plus(CRL_VALIDITY)));
        for (Issued i : list()) {
            if (i.revoked()) b.addCRLEntry(i.serial(), Date.from(i.revokedAt()), CRLReason.cessationOfOperation);
        }
        b.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(caCert));
        X509CRL crl = new JcaX509CRLConverter().getCRL(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(privateKey())));
        rewrite(crl(), pem("X509 CRL", crl.getEncoded()));
    }

    private PrivateKey privateKey() throws CaException {
        Path key = dir.resolve("ca.key");
        try {
            return Pem.privateKey(key);
        } catch (Pem.PemException | IOException e) {
            throw new CaException("the CA key " + key + " cannot be read (this command signs with it; run it on the CA's host): " + e.getMessage(), e);
        }
    }

    private static X509Certificate certificate(Path file) throws CaException {
        try {
            return Pem.certificate(file);
        } catch (Pem.PemException | IOException e) {
            throw new CaException("cannot read certificate " + file + ": " + e.getMessage(), e);
        }
    }

    private static String line(Issued i) {
        return i.serial().toString(16) + "\t" + i.cn() + "\t" + i.role() + "\t" + i.notAfter() + "\t"
                + (i.revokedAt() == null ? "-" : i.revokedAt().toString()) + "\n";
    }

    /** Temp file, then rename: a crash leaves the old index or CRL, never half of one. */
    private static void rewrite(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void writePrivate(Path file, String text) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, text, StandardCharsets.US_ASCII);
    }

    private static boolean isAddress(String n) {
        if (!n.matches("[0-9.]+|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*")) return false;
        try {
            InetAddress.getByName(n);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static String pem(String type, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    }

    private static KeyPair ecKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** 159 random bits: unique without coordination, positive, within RFC 5280's 20 octets. */
    private static BigInteger serial() {
        return new BigInteger(159, RANDOM).setBit(150);
    }

    /** The role a certificate names in its OU (device when absent: a site PKI's plain device certificates). */
    public static String roleOf(X509Certificate cert) {
        String dn = cert.getSubjectX500Principal().getName();
        for (String part : dn.split(",")) {
            String p = part.trim();
            if (p.toUpperCase(Locale.ROOT).startsWith("OU=") && p.substring(3).equals(ROLE_CONTROLLER)) return ROLE_CONTROLLER;
        }
        return ROLE_DEVICE;
    }
}
