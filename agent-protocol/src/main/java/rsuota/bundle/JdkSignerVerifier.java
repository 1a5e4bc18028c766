package rsuota.bundle;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PSSParameterSpec;
import java.util.Map;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.SignerInformationVerifier;
import org.bouncycastle.operator.ContentVerifier;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.OperatorCreationException;

/**
 * The operators BouncyCastle's {@code SignerInformation.verify} calls, for the algorithms {@link CmsVerifier} allows
 * and nothing else, done by the JDK's {@link Signature} and {@link MessageDigest}. BouncyCastle keeps the CMS rules
 * (the message-digest and content-type attributes, the signature over the DER of the signed attributes); this class
 * only names algorithms. {@code JcaSimpleSignerInfoVerifierBuilder} did the same through BouncyCastle's general
 * algorithm-name tables, whose ~1,500 object identifiers of every algorithm family cost an install ~1.5 MiB
 * (docs/benchmarks.md, Install peak RSS).
 */
final class JdkSignerVerifier {
    private JdkSignerVerifier() {}

    private static final Map<ASN1ObjectIdentifier, String> DIGESTS = Map.of(
            NISTObjectIdentifiers.id_sha256, "SHA-256", NISTObjectIdentifiers.id_sha384, "SHA-384", NISTObjectIdentifiers.id_sha512, "SHA-512");

    /** The JDK's names of the signature algorithms that carry their digest in their own identifier. */
    private static final Map<ASN1ObjectIdentifier, String> SIGNATURES = Map.of(
            X9ObjectIdentifiers.ecdsa_with_SHA256, "SHA256withECDSA", X9ObjectIdentifiers.ecdsa_with_SHA384, "SHA384withECDSA",
            X9ObjectIdentifiers.ecdsa_with_SHA512, "SHA512withECDSA",
            PKCSObjectIdentifiers.sha256WithRSAEncryption, "SHA256withRSA", PKCSObjectIdentifiers.sha384WithRSAEncryption, "SHA384withRSA",
            PKCSObjectIdentifiers.sha512WithRSAEncryption, "SHA512withRSA",
            EdECObjectIdentifiers.id_Ed25519, "Ed25519");

    /** The signature algorithm a key-only identifier (id-ecPublicKey, rsaEncryption) means with each digest. */
    private static final Map<String, ASN1ObjectIdentifier> WITH_DIGEST = Map.of(
            X9ObjectIdentifiers.id_ecPublicKey.getId() + " " + NISTObjectIdentifiers.id_sha256.getId(), X9ObjectIdentifiers.ecdsa_with_SHA256,
            X9ObjectIdentifiers.id_ecPublicKey.getId() + " " + NISTObjectIdentifiers.id_sha384.getId(), X9ObjectIdentifiers.ecdsa_with_SHA384,
            X9ObjectIdentifiers.id_ecPublicKey.getId() + " " + NISTObjectIdentifiers.id_sha512.getId(), X9ObjectIdentifiers.ecdsa_with_SHA512,
            PKCSObjectIdentifiers.rsaEncryption.getId() + " " + NISTObjectIdentifiers.id_sha256.getId(), PKCSObjectIdentifiers.sha256WithRSAEncryption,
            PKCSObjectIdentifiers.rsaEncryption.getId() + " " + NISTObjectIdentifiers.id_sha384.getId(), PKCSObjectIdentifiers.sha384WithRSAEncryption,
            PKCSObjectIdentifiers.rsaEncryption.getId() + " " + NISTObjectIdentifiers.id_sha512.getId(), PKCSObjectIdentifiers.sha512WithRSAEncryption);

    /** A verifier of one signer's signature made with {@code key}. */
    static SignerInformationVerifier forKey(PublicKey key) {
        // BouncyCastle asks for a name (signing, digest), hands it to find() and passes what find() returns, with
        // the signing identifier's parameters (RSASSA-PSS's), to the content verifier provider.
        return new SignerInformationVerifier(
                (digest, signing) -> signing.getAlgorithm().getId() + " " + digest.getAlgorithm().getId(),
                name -> {
                    ASN1ObjectIdentifier combined = WITH_DIGEST.get(name);
                    return new AlgorithmIdentifier(combined != null ? combined : new ASN1ObjectIdentifier(name.substring(0, name.indexOf(' '))));
                },
                new Contents(key),
                JdkSignerVerifier::digest);
    }

    private static DigestCalculator digest(AlgorithmIdentifier id) throws OperatorCreationException {
        String name = DIGESTS.get(id.getAlgorithm());
        if (name == null) throw new OperatorCreationException("digest algorithm " + id.getAlgorithm() + " is not allowed");
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(name);
        } catch (GeneralSecurityException e) {
            throw new OperatorCreationException(name + ": " + e.getMessage(), e);
        }
        return new DigestCalculator() {
            private final OutputStream out = new OutputStream() {
                @Override
                public void write(int b) {
                    md.update((byte) b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    md.update(b, off, len);
                }
            };

            @Override
            public AlgorithmIdentifier getAlgorithmIdentifier() {
                return id;
            }

            @Override
            public OutputStream getOutputStream() {
                return out;
            }

            @Override
            public byte[] getDigest() {
                return md.digest();
            }
        };
    }

    /**
     * BouncyCastle calls {@link #get} with the identifier {@link #forKey}'s finder chose (the signature algorithm
     * with its digest) and the signer's own parameters (RSASSA-PSS's).
     */
    private record Contents(PublicKey key) implements ContentVerifierProvider {
        @Override
        public boolean hasAssociatedCertificate() {
            return false;
        }

        @Override
        public X509CertificateHolder getAssociatedCertificate() {
            return null;
        }

        @Override
        public ContentVerifier get(AlgorithmIdentifier signing) throws OperatorCreationException {
            Signature sig;
            try {
                if (PKCSObjectIdentifiers.id_RSASSA_PSS.equals(signing.getAlgorithm())) {
                    if (signing.getParameters() == null) throw new OperatorCreationException("RSASSA-PSS without parameters");
                    AlgorithmParameters p = AlgorithmParameters.getInstance("RSASSA-PSS");
                    p.init(signing.getParameters().toASN1Primitive().getEncoded(ASN1Encoding.DER));
                    sig = Signature.getInstance("RSASSA-PSS");
                    sig.setParameter(p.getParameterSpec(PSSParameterSpec.class));
                } else {
                    String name = SIGNATURES.get(signing.getAlgorithm());
                    if (name == null) throw new OperatorCreationException("signature algorithm " + signing.getAlgorithm() + " is not allowed");
                    sig = Signature.getInstance(name);
                }
                sig.initVerify(key);
            } catch (GeneralSecurityException | IOException e) {
                throw new OperatorCreationException("signature algorithm " + signing.getAlgorithm() + ": " + e.getMessage(), e);
            }
            // The signed attributes are a few hundred bytes: buffer them and verify in one call.
            ByteArrayOutputStream signed = new ByteArrayOutputStream(512);
            return new ContentVerifier() {
                @Override
                public AlgorithmIdentifier getAlgorithmIdentifier() {
                    return signing;
                }

                @Override
                public OutputStream getOutputStream() {
                    return signed;
                }

                @Override
                public boolean verify(byte[] signature) {
                    try {
                        sig.update(signed.toByteArray());
                        return sig.verify(signature);
                    } catch (java.security.SignatureException e) {
                        // A signature that is not even well-formed (bad DER of r and s) does not verify.
                        return false;
                    }
                }
            };
        }
    }
}
