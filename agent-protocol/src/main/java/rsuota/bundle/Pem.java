package rsuota.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads PEM certificates and PKCS#8 keys as openssl writes them, with errors that say how to fix them. */
public final class Pem {
    private Pem() {}

    /** A key or certificate file that cannot be used; the message names the file and the fix. */
    public static final class PemException extends Exception {
        public PemException(String m) {
            super(m);
        }
    }

    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \\1-----");

    public static List<X509Certificate> certificates(Path file) throws PemException, IOException {
        byte[] data = read(file);
        try (InputStream in = new java.io.ByteArrayInputStream(data)) {
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) out.add((X509Certificate) c);
            if (out.isEmpty()) throw new PemException(file + ": no certificate found (expected PEM 'BEGIN CERTIFICATE' blocks)");
            return out;
        } catch (CertificateException e) {
            throw new PemException(file + ": not a PEM certificate file: " + e.getMessage());
        }
    }

    public static X509Certificate certificate(Path file) throws PemException, IOException {
        return certificates(file).get(0);
    }

    public static PrivateKey privateKey(Path file) throws PemException, IOException {
        String text = new String(read(file), StandardCharsets.US_ASCII);
        Matcher m = BLOCK.matcher(text);
        if (!m.find()) throw new PemException(file + ": no PEM block found (expected 'BEGIN PRIVATE KEY', PKCS#8)");
        String type = m.group(1);
        if (type.equals("ENCRYPTED PRIVATE KEY")) {
            throw new PemException(file + ": key is encrypted; decrypt it with 'openssl pkcs8 -in KEY -out KEY.pem' (HSM keys: sign outside with --unsigned)");
        }
        if (!type.equals("PRIVATE KEY")) {
            throw new PemException(file + ": key is '" + type + "', not PKCS#8; convert with 'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pem'");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(m.group(2));
        } catch (IllegalArgumentException e) {
            throw new PemException(file + ": PEM body is not base64");
        }
        for (String alg : new String[] {"EC", "Ed25519", "RSA"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException ignored) {
                // try the next algorithm: PKCS#8 names the algorithm inside, the JDK wants it up front
            }
        }
        throw new PemException(file + ": PKCS#8 key is not EC, Ed25519 or RSA");
    }

    /** A missing file surfaces as {@link NoSuchFileException} (an I/O problem, not a key problem). */
    private static byte[] read(Path file) throws IOException {
        return Files.readAllBytes(file);
    }
}
