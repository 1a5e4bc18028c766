package rsuota.bundle;

import java.io.IOException;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.DefaultSignedAttributeTableGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * Makes the detached CMS SignedData (DER) over manifest bytes, with the signer certificate and
 * its intermediates attached and a signingTime signed attribute: the same structure
 * {@code openssl cms -sign -binary -outform DER} makes, so either side verifies the other.
 */
public final class CmsSigner {
    private CmsSigner() {}

    /**
     * ECDSA signatures in their low-S form (s <= n/2), so that bundles we sign pass the strict policy
     * ({@link VerifyOptions#strict}); any other key's signer is returned as it is.
     */
    static ContentSigner lowS(ContentSigner cs, PrivateKey key) {
        if (!(key instanceof java.security.interfaces.ECPrivateKey ec)) return cs;
        java.math.BigInteger n = ec.getParams().getOrder();
        return new ContentSigner() {
            @Override
            public org.bouncycastle.asn1.x509.AlgorithmIdentifier getAlgorithmIdentifier() {
                return cs.getAlgorithmIdentifier();
            }

            @Override
            public java.io.OutputStream getOutputStream() {
                return cs.getOutputStream();
            }

            @Override
            public byte[] getSignature() {
                byte[] der = cs.getSignature();
                org.bouncycastle.asn1.ASN1Sequence seq = org.bouncycastle.asn1.ASN1Sequence.getInstance(der);
                java.math.BigInteger r = org.bouncycastle.asn1.ASN1Integer.getInstance(seq.getObjectAt(0)).getValue();
                java.math.BigInteger s = org.bouncycastle.asn1.ASN1Integer.getInstance(seq.getObjectAt(1)).getValue();
                if (s.compareTo(n.shiftRight(1)) <= 0) return der;
                try {
                    return new org.bouncycastle.asn1.DERSequence(new org.bouncycastle.asn1.ASN1Encodable[] {
                            new org.bouncycastle.asn1.ASN1Integer(r), new org.bouncycastle.asn1.ASN1Integer(n.subtract(s))}).getEncoded(ASN1Encoding.DER);
                } catch (IOException e) {
                    throw new IllegalStateException("re-encoding an ECDSA signature failed", e);
                }
            }
        };
    }

    public static byte[] sign(byte[] manifestBytes, PrivateKey key, X509Certificate signer,
                              List<X509Certificate> chain, Instant signingTime) {
        try {
            ContentSigner cs = lowS(new JcaContentSignerBuilder(algorithmFor(key)).build(key), key);
            ASN1EncodableVector v = new ASN1EncodableVector();
            v.add(new Attribute(CMSAttributes.signingTime, new DERSet(new Time(Date.from(signingTime)))));
            CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
            gen.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().build())
                    .setSignedAttributeGenerator(new DefaultSignedAttributeTableGenerator(new AttributeTable(v)))
                    .build(cs, signer));
            List<X509Certificate> certs = new ArrayList<>();
            certs.add(signer);
            certs.addAll(chain);
            gen.addCertificates(new JcaCertStore(certs));
            CMSSignedData sd = gen.generate(new CMSProcessableByteArray(manifestBytes), false);
            return sd.getEncoded(ASN1Encoding.DER);
        } catch (OperatorCreationException | CMSException | CertificateEncodingException | IOException e) {
            throw new IllegalArgumentException("cannot sign with this key and certificate: " + e.getMessage(), e);
        }
    }

    static String algorithmFor(PrivateKey key) {
        if (key instanceof ECPrivateKey ec) {
            return ec.getParams().getCurve().getField().getFieldSize() > 256 ? "SHA384withECDSA" : "SHA256withECDSA";
        }
        if (key instanceof RSAPrivateKey) return "SHA256withRSA";
        if (key.getAlgorithm().equals("EdDSA") || key.getAlgorithm().equals("Ed25519")) return "Ed25519";
        throw new IllegalArgumentException("unsupported key algorithm " + key.getAlgorithm());
    }
}
