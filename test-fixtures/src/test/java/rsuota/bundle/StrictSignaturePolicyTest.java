package rsuota.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.ECPublicKey;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.SignedData;
import org.bouncycastle.asn1.cms.SignerInfo;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.pki.TestPki;

/**
 * The strict policy: a signature that verifies but is not in its one canonical form (a high-S ECDSA
 * value anyone can derive without the key, unsigned CMS attributes riding along) is refused with
 * NON_CANONICAL_SIGNATURE; the permissive default still takes it (openssl cms -sign makes high S half
 * of the time). Our own signer always writes low S.
 */
class StrictSignaturePolicyTest {
    static TestPki pki;
    @TempDir static Path dir;
    static Path good;

    @BeforeAll
    static void setUp() throws Exception {
        pki = new TestPki();
        good = new BundleBuilder(dir).signedBy(pki, pki.signer).image("rootfs", 100_000).build("good.rsub");
    }

    static BundleVerifier verifier(boolean strict) {
        return new BundleVerifier(VerifyOptions.of(pki.keyring()).withVariant("rsu-a1").withStrict(strict));
    }

    /** The bundle with its CMS signature replaced (same manifest, same payload). */
    static Path withSignature(String name, byte[] sig) throws Exception {
        BundleHeader h = BundleHeader.read(good);
        byte[] all = Files.readAllBytes(good);
        byte[] head = BundleHeader.encode(h.manifestBytes(), sig);
        byte[] out = Arrays.copyOf(head, head.length + all.length - (int) h.payloadOffset());
        System.arraycopy(all, (int) h.payloadOffset(), out, head.length, all.length - (int) h.payloadOffset());
        return Files.write(dir.resolve(name), out);
    }

    /** The one SignerInfo of {@code cms}, changed by {@code change}, re-encoded in DER. */
    static byte[] rewriteSigner(byte[] cms, java.util.function.UnaryOperator<SignerInfo> change) throws Exception {
        ContentInfo ci = ContentInfo.getInstance(cms);
        SignedData sd = SignedData.getInstance(ci.getContent());
        SignerInfo si = SignerInfo.getInstance(sd.getSignerInfos().getObjectAt(0));
        SignedData changed = new SignedData(sd.getDigestAlgorithms(), sd.getEncapContentInfo(), sd.getCertificates(), sd.getCRLs(),
                new DERSet(change.apply(si)));
        return new ContentInfo(CMSObjectIdentifiers.signedData, changed).getEncoded(ASN1Encoding.DER);
    }

    static BundleException refusal(BundleVerifier v, Path b) {
        Throwable t = catchThrowable(() -> v.verifyFile(b, null));
        assertThat(t).isInstanceOf(BundleException.class);
        return (BundleException) t;
    }

    @Test
    void ourSignerAlwaysWritesLowSAndPassesStrict() throws Exception {
        BigInteger half = ((ECPublicKey) pki.signer.cert().getPublicKey()).getParams().getOrder().shiftRight(1);
        for (int i = 0; i < 16; i++) {
            Path b = new BundleBuilder(dir).signedBy(pki, pki.signer).image("rootfs", 20_000).build("low-" + i + ".rsub");
            verifier(true).verifyFile(b, null);
            byte[] sig = SignerInfo.getInstance(SignedData.getInstance(ContentInfo.getInstance(BundleHeader.read(b).signature()).getContent())
                    .getSignerInfos().getObjectAt(0)).getEncryptedDigest().getOctets();
            BigInteger s = ASN1Integer.getInstance(ASN1Sequence.getInstance(sig).getObjectAt(1)).getValue();
            assertThat(s).as("signature %d", i).isLessThanOrEqualTo(half);
        }
    }

    @Test
    void aHighSTwinVerifiesPermissivelyAndIsRefusedStrictly() throws Exception {
        BigInteger n = ((ECPublicKey) pki.signer.cert().getPublicKey()).getParams().getOrder();
        byte[] flipped = rewriteSigner(BundleHeader.read(good).signature(), si -> {
            ASN1Sequence rs = ASN1Sequence.getInstance(si.getEncryptedDigest().getOctets());
            BigInteger r = ASN1Integer.getInstance(rs.getObjectAt(0)).getValue();
            BigInteger s = ASN1Integer.getInstance(rs.getObjectAt(1)).getValue();
            try {
                byte[] twin = new DERSequence(new org.bouncycastle.asn1.ASN1Encodable[] {new ASN1Integer(r), new ASN1Integer(n.subtract(s))})
                        .getEncoded(ASN1Encoding.DER);
                return new SignerInfo(si.getSID(), si.getDigestAlgorithm(), si.getAuthenticatedAttributes(), si.getDigestEncryptionAlgorithm(),
                        new DEROctetString(twin), si.getUnauthenticatedAttributes());
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        });
        Path twin = withSignature("high-s.rsub", flipped);
        assertThat(verifier(false).verifyFile(twin, null).manifest().release()).as("ECDSA takes both forms").isEqualTo("2.4.0");
        BundleException e = refusal(verifier(true), twin);
        assertThat(e.reason()).isEqualTo(Reason.NON_CANONICAL_SIGNATURE);
        assertThat(e.getMessage()).contains("high S");
    }

    @Test
    void unsignedAttributesAreRefusedStrictlyNamingThem() throws Exception {
        ASN1ObjectIdentifier timestamp = new ASN1ObjectIdentifier("1.2.840.113549.1.9.16.2.14");
        byte[] extra = rewriteSigner(BundleHeader.read(good).signature(), si -> new SignerInfo(si.getSID(), si.getDigestAlgorithm(),
                si.getAuthenticatedAttributes(), si.getDigestEncryptionAlgorithm(), si.getEncryptedDigest(),
                new DERSet(new Attribute(timestamp, new DERSet(new DEROctetString(new byte[] {1, 2, 3}))))));
        Path b = withSignature("unsigned-attr.rsub", extra);
        verifier(false).verifyFile(b, null);
        BundleException e = refusal(verifier(true), b);
        assertThat(e.reason()).isEqualTo(Reason.NON_CANONICAL_SIGNATURE);
        assertThat(e.getMessage()).contains("unsigned attributes").contains(timestamp.getId());
    }
}
