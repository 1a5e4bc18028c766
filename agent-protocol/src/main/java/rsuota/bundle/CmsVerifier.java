package rsuota.bundle;

import java.security.PublicKey;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertStore;
import java.security.cert.CertificateException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSTypedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.util.Store;

/**
 * Verifies the detached CMS SignedData over the manifest bytes.
 *
 * <p>Only JDK providers are used (no BouncyCastle JCA provider is registered): BouncyCastle parses
 * CMS, the JDK does the ECDSA/RSA/Ed25519 and PKIX work. FIELD-NOTES measured ~20 MB of RSS for the
 * BC provider on a small box.
 *
 * <p>Time policy: certificate validity is checked at the CMS {@code signingTime} the signer put in
 * the signed attributes (a box without an RTC boots in 1970, so "now" is usually unknown). When the
 * device clock is known to be synchronised, a signing time later than now + skew is refused too,
 * because an honest signer cannot sign in the future. A leaked, expired key could still back-date a
 * signature; the securityVersion floor and key rotation (a new root in the keyring) are the
 * mitigations, documented in docs/bundle-format.md.
 */
final class CmsVerifier {
    private CmsVerifier() {}

    private static final Set<ASN1ObjectIdentifier> DIGESTS = Set.of(
            NISTObjectIdentifiers.id_sha256, NISTObjectIdentifiers.id_sha384, NISTObjectIdentifiers.id_sha512);

    private static final Set<ASN1ObjectIdentifier> SIGNATURES = Set.of(
            X9ObjectIdentifiers.ecdsa_with_SHA256, X9ObjectIdentifiers.ecdsa_with_SHA384, X9ObjectIdentifiers.ecdsa_with_SHA512,
            X9ObjectIdentifiers.id_ecPublicKey, EdECObjectIdentifiers.id_Ed25519,
            PKCSObjectIdentifiers.rsaEncryption, PKCSObjectIdentifiers.sha256WithRSAEncryption,
            PKCSObjectIdentifiers.sha384WithRSAEncryption, PKCSObjectIdentifiers.sha512WithRSAEncryption,
            PKCSObjectIdentifiers.id_RSASSA_PSS);

    private static final Map<ASN1ObjectIdentifier, String> CURVES = Map.of(
            SECObjectIdentifiers.secp256r1, "P-256", SECObjectIdentifiers.secp384r1, "P-384");

    /** RSA below 3072 bits is under 128-bit security (NIST SP 800-57). */
    static final int MIN_RSA_BITS = 3072;

    static SignerInfo verify(byte[] manifestBytes, byte[] der, VerifyOptions opts) throws BundleException {
        return verify(out -> out.write(manifestBytes), der, opts);
    }

    /** What writes the signed manifest bytes to the signature check's digest: a unit streams them from its header file. */
    interface Content {
        void writeTo(java.io.OutputStream out) throws java.io.IOException;
    }

    /** As {@link #verify(byte[], byte[], VerifyOptions)}, over manifest bytes that {@code content} writes (streamed, not held). */
    static SignerInfo verify(Content content, byte[] der, VerifyOptions opts) throws BundleException {
        return verify(new Signed(content), der, opts);
    }

    private static SignerInfo verify(Signed content, byte[] der, VerifyOptions opts) throws BundleException {
        try {
            return verifyParsed(content, der, opts);
        } catch (RuntimeException e) {
            // BouncyCastle parses lazily and reports malformed DER deep inside (a certificate's validity,
            // an attribute) as IllegalArgumentException, IllegalStateException or ClassCastException.
            // The input is untrusted bytes: every such case is a malformed signature, never a crash.
            throw new BundleException(Reason.SIGNATURE_INVALID, "signature structure is malformed: " + e.getMessage());
        }
    }

    /** The signed content, written to the digest as {@link Content} gives it. */
    private record Signed(Content content) implements CMSTypedData {
        @Override
        public ASN1ObjectIdentifier getContentType() {
            return CMSObjectIdentifiers.data;
        }

        @Override
        public void write(java.io.OutputStream out) throws java.io.IOException {
            content.writeTo(out);
        }

        @Override
        public Object getContent() {
            java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
            try {
                content.writeTo(b);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return b.toByteArray();
        }
    }

    private static SignerInfo verifyParsed(Signed manifest, byte[] der, VerifyOptions opts) throws BundleException {
        CMSSignedData cms;
        try {
            cms = new CMSSignedData(manifest, der);
        } catch (CMSException | RuntimeException e) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "signature is not a CMS SignedData structure: " + e.getMessage());
        }
        Collection<SignerInformation> signers = cms.getSignerInfos().getSigners();
        if (signers.size() != 1) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "expected exactly one signer, found " + signers.size());
        }
        SignerInformation signer = signers.iterator().next();
        checkUnsignedFields(der, cms, signer);
        List<X509Certificate> bundled = certificates(cms.getCertificates());
        X509Certificate leaf = findSigner(cms.getCertificates(), signer);

        ASN1ObjectIdentifier digest = signer.getDigestAlgorithmID().getAlgorithm();
        ASN1ObjectIdentifier sigAlg = new ASN1ObjectIdentifier(signer.getEncryptionAlgOID());
        if (!DIGESTS.contains(digest)) {
            throw new BundleException(Reason.WEAK_ALGORITHM, "digest algorithm " + digest + " is not allowed (SHA-256/384/512 only)");
        }
        if (!SIGNATURES.contains(sigAlg)) {
            throw new BundleException(Reason.WEAK_ALGORITHM, "signature algorithm " + sigAlg + " is not allowed");
        }
        checkKey(leaf, "signer");

        try {
            // Built from the public key, not the certificate: BouncyCastle would otherwise check validity
            // itself and report it as a signature failure. Validity is checked below, after the signature
            // has authenticated the signingTime it is checked at.
            if (!signer.verify(JdkSignerVerifier.forKey(leaf.getPublicKey()))) {
                throw new BundleException(Reason.SIGNATURE_INVALID, "signature does not match the manifest bytes");
            }
        } catch (CMSException e) {
            // BouncyCastle throws rather than returning false for a content digest mismatch (FIELD-NOTES).
            throw new BundleException(Reason.SIGNATURE_INVALID, "signature does not match the manifest bytes: " + e.getMessage());
        } catch (RuntimeException e) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "signature cannot be checked: " + e.getMessage());
        }

        if (opts.strict()) strictForm(signer, leaf);

        Instant signingTime = signingTime(signer);
        Optional<Instant> now = opts.trustedNow().get();
        if (now.isPresent() && signingTime.isAfter(now.get().plus(opts.maxClockSkew()))) {
            throw new BundleException(Reason.CERT_NOT_VALID_AT_SIGNING_TIME, "signing time " + signingTime
                    + " is in the future of the synchronised clock (" + now.get() + ")");
        }
        checkValidity(leaf, signingTime, "signer");

        List<X509Certificate> path = buildPath(leaf, bundled, opts.keyring(), signingTime);
        for (X509Certificate c : path) {
            checkKey(c, c == leaf ? "signer" : "issuer " + c.getSubjectX500Principal().getName());
        }
        checkUsage(leaf);
        return new SignerInfo(leaf.getSubjectX500Principal().getName(), leaf.getIssuerX500Principal().getName(),
                leaf.getSerialNumber().toString(16), signingTime, leaf.getSigAlgName());
    }

    /**
     * The strict policy: nothing outside the signature may ride along (unsigned attributes), and an
     * ECDSA signature must carry the low S of its two valid forms ((r, s) and (r, n - s) both verify),
     * so that no one without the key can make a second valid encoding of a signed bundle.
     */
    private static void strictForm(SignerInformation signer, X509Certificate leaf) throws BundleException {
        if (signer.getUnsignedAttributes() != null && signer.getUnsignedAttributes().size() > 0) {
            List<String> oids = new ArrayList<>();
            org.bouncycastle.asn1.ASN1EncodableVector attrs = signer.getUnsignedAttributes().toASN1EncodableVector();
            for (int i = 0; i < attrs.size(); i++) oids.add(org.bouncycastle.asn1.cms.Attribute.getInstance(attrs.get(i)).getAttrType().getId());
            throw new BundleException(Reason.NON_CANONICAL_SIGNATURE, "the signature carries unsigned attributes " + oids
                    + " that no signature covers; the strict policy refuses them (sign without them, e.g. rsu-bundle sign)");
        }
        if (leaf.getPublicKey() instanceof java.security.interfaces.ECPublicKey ec) {
            java.math.BigInteger n = ec.getParams().getOrder();
            java.math.BigInteger s;
            try {
                org.bouncycastle.asn1.ASN1Sequence seq = org.bouncycastle.asn1.ASN1Sequence.getInstance(signer.getSignature());
                s = org.bouncycastle.asn1.ASN1Integer.getInstance(seq.getObjectAt(1)).getValue();
            } catch (RuntimeException e) {
                throw new BundleException(Reason.SIGNATURE_INVALID, "the ECDSA signature value is not a DER (r, s) pair: " + e.getMessage());
            }
            if (s.compareTo(n.shiftRight(1)) > 0) {
                throw new BundleException(Reason.NON_CANONICAL_SIGNATURE, "the ECDSA signature has the high S of its two valid forms;"
                        + " the strict policy takes only low S (re-sign with rsu-bundle sign, which normalises it)");
            }
        }
    }

    /**
     * The parts of a CMS SignedData that no signature covers (outer content type, versions, the
     * digestAlgorithms set, the encoding itself) must be exactly what the one signer implies, so
     * that no byte of a bundle can change while it still verifies.
     */
    private static void checkUnsignedFields(byte[] der, CMSSignedData cms, SignerInformation signer) throws BundleException {
        org.bouncycastle.asn1.cms.ContentInfo ci = cms.toASN1Structure();
        if (!org.bouncycastle.asn1.cms.CMSObjectIdentifiers.signedData.equals(ci.getContentType())) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "content type " + ci.getContentType() + " is not signedData");
        }
        try {
            if (!java.util.Arrays.equals(ci.getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER), der)) {
                throw new BundleException(Reason.SIGNATURE_INVALID, "signature is not in canonical DER (re-encode it with -outform DER)");
            }
        } catch (java.io.IOException e) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "signature cannot be re-encoded: " + e.getMessage());
        }
        org.bouncycastle.asn1.cms.SignedData sd = org.bouncycastle.asn1.cms.SignedData.getInstance(ci.getContent());
        boolean bySerial = signer.getSID().getSubjectKeyIdentifier() == null;
        int expectedSignerVersion = bySerial ? 1 : 3;
        if (signer.getVersion() != expectedSignerVersion) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "SignerInfo version " + signer.getVersion() + " does not match its signer identifier");
        }
        int v = sd.getVersion().intValueExact();
        if (v != 1 && v != 3) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "SignedData version " + v + " is not 1 or 3");
        }
        if (v != (bySerial ? 1 : 3)) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "SignedData version " + v + " does not match its signer");
        }
        var digests = sd.getDigestAlgorithms();
        if (digests.size() != 1 || !org.bouncycastle.asn1.x509.AlgorithmIdentifier.getInstance(digests.getObjectAt(0)).getAlgorithm()
                .equals(signer.getDigestAlgorithmID().getAlgorithm())) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "digestAlgorithms set does not match the signer's digest");
        }
    }

    private static List<X509Certificate> certificates(Store<X509CertificateHolder> store) throws BundleException {
        List<X509Certificate> out = new ArrayList<>();
        JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
        for (X509CertificateHolder h : store.getMatches(null)) {
            // A certificate's signature value sits outside what its issuer signed; the JDK verifies
            // its bytes whatever the BIT STRING's count of unused bits says. DER wants 0 for a
            // signature made of whole bytes: any other count is a changed byte, refused.
            int pad = h.toASN1Structure().getSignature().getPadBits();
            if (pad != 0) {
                throw new BundleException(Reason.SIGNATURE_INVALID, "certificate '" + h.getSubject() + "' has a signature value with "
                        + pad + " unused bits (DER allows 0 for a signature of whole bytes)");
            }
            try {
                out.add(conv.getCertificate(h));
            } catch (CertificateException e) {
                throw new BundleException(Reason.SIGNATURE_INVALID, "a certificate in the signature cannot be decoded: " + e.getMessage());
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static X509Certificate findSigner(Store<X509CertificateHolder> store, SignerInformation signer) throws BundleException {
        Collection<X509CertificateHolder> m = store.getMatches(signer.getSID());
        if (m.isEmpty()) {
            throw new BundleException(Reason.UNTRUSTED_SIGNER, "the signer's certificate is not included in the signature (sign with the certificate attached)");
        }
        X509CertificateHolder holder = m.iterator().next();
        // No signature covers the signer identifier, and BouncyCastle matches its issuer name the way
        // RFC 5280 compares names (case-insensitively): require the very bytes of the certificate's
        // issuer, so that a changed letter there is refused like any other changed byte.
        org.bouncycastle.asn1.x500.X500Name sidIssuer = signer.getSID().getIssuer();
        try {
            if (sidIssuer != null && !java.util.Arrays.equals(sidIssuer.getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER),
                    holder.getIssuer().getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER))) {
                throw new BundleException(Reason.SIGNATURE_INVALID, "the signer identifier names the issuer '" + sidIssuer
                        + "' differently from the signer certificate ('" + holder.getIssuer() + "')");
            }
        } catch (java.io.IOException e) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "the signer identifier cannot be encoded: " + e.getMessage());
        }
        try {
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (CertificateException e) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "signer certificate cannot be decoded: " + e.getMessage());
        }
    }

    private static Instant signingTime(SignerInformation signer) throws BundleException {
        AttributeTable attrs = signer.getSignedAttributes();
        Attribute a = attrs == null ? null : attrs.get(CMSAttributes.signingTime);
        if (a == null || a.getAttrValues().size() != 1) {
            throw new BundleException(Reason.SIGNATURE_INVALID,
                    "signature has no signingTime signed attribute; validity cannot be checked (sign with signed attributes)");
        }
        try {
            return derTime(Time.getInstance(a.getAttrValues().getObjectAt(0)).toASN1Primitive());
        } catch (RuntimeException | java.io.IOException e) {
            throw new BundleException(Reason.SIGNATURE_INVALID, "signingTime attribute is malformed: " + e.getMessage());
        }
    }

    /**
     * A DER UTCTime ({@code YYMMDDhhmmssZ}, years 1950-2049) or GeneralizedTime ({@code YYYYMMDDhhmmss[.fff]Z}) as an
     * instant, read from its digits. Not BouncyCastle's {@code getDate()}: that goes through {@code SimpleDateFormat},
     * whose calendar lookup loads the names of ~1,000 locales (~1 MiB) in every install (docs/benchmarks.md).
     */
    static Instant derTime(org.bouncycastle.asn1.ASN1Primitive time) throws java.io.IOException {
        byte[] der = time.getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER);
        boolean utc = der[0] == 0x17;
        if ((!utc && der[0] != 0x18) || der.length < 2 || der[1] != der.length - 2) {
            throw new java.io.IOException("not a DER UTCTime or GeneralizedTime");
        }
        String t = new String(der, 2, der.length - 2, java.nio.charset.StandardCharsets.US_ASCII);
        String pattern = utc ? "\\d{12}Z" : "\\d{14}(\\.\\d*[1-9])?Z";
        if (!t.matches(pattern)) throw new java.io.IOException("'" + t + "' is not a DER " + (utc ? "UTCTime (YYMMDDhhmmssZ)" : "GeneralizedTime (YYYYMMDDhhmmssZ)"));
        int i = utc ? 2 : 4;
        int year = Integer.parseInt(t.substring(0, i));
        if (utc) year += year >= 50 ? 1900 : 2000;
        int nanos = 0;
        int dot = t.indexOf('.');
        if (dot > 0) nanos = Integer.parseInt((t.substring(dot + 1, t.length() - 1) + "000000000").substring(0, 9));
        try {
            return java.time.LocalDateTime.of(year, Integer.parseInt(t.substring(i, i + 2)), Integer.parseInt(t.substring(i + 2, i + 4)),
                    Integer.parseInt(t.substring(i + 4, i + 6)), Integer.parseInt(t.substring(i + 6, i + 8)),
                    Integer.parseInt(t.substring(i + 8, i + 10)), nanos).toInstant(java.time.ZoneOffset.UTC);
        } catch (java.time.DateTimeException e) {
            throw new java.io.IOException("'" + t + "' is not a date: " + e.getMessage());
        }
    }

    private static void checkValidity(X509Certificate c, Instant at, String role) throws BundleException {
        Date d = Date.from(at);
        if (d.before(c.getNotBefore()) || d.after(c.getNotAfter())) {
            throw new BundleException(Reason.CERT_NOT_VALID_AT_SIGNING_TIME, role + " certificate "
                    + c.getSubjectX500Principal().getName() + " is valid " + c.getNotBefore().toInstant() + " .. "
                    + c.getNotAfter().toInstant() + ", not at the signing time " + at);
        }
    }

    private static List<X509Certificate> buildPath(X509Certificate leaf, List<X509Certificate> bundled,
                                                   List<X509Certificate> keyring, Instant at) throws BundleException {
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate k : keyring) anchors.add(new TrustAnchor(k, null));
        try {
            X509CertSelector sel = new X509CertSelector();
            sel.setCertificate(leaf);
            PKIXBuilderParameters p = new PKIXBuilderParameters(anchors, sel);
            p.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(bundled)));
            // Devices are offline: no CRL/OCSP fetch. Revocation is by key rotation and securityVersion.
            p.setRevocationEnabled(false);
            p.setDate(Date.from(at));
            PKIXCertPathBuilderResult r = (PKIXCertPathBuilderResult) CertPathBuilder.getInstance("PKIX").build(p);
            List<X509Certificate> path = new ArrayList<>();
            r.getCertPath().getCertificates().forEach(c -> path.add((X509Certificate) c));
            path.add(r.getTrustAnchor().getTrustedCert());
            return path;
        } catch (CertPathBuilderException e) {
            // Tell an expired intermediate apart from a stranger: both make PKIX fail.
            for (X509Certificate c : bundled) {
                if (c != leaf && !c.equals(leaf)) {
                    Date d = Date.from(at);
                    boolean related = leaf.getIssuerX500Principal().equals(c.getSubjectX500Principal());
                    if (related && (d.before(c.getNotBefore()) || d.after(c.getNotAfter()))) {
                        checkValidity(c, at, "intermediate");
                    }
                }
            }
            throw new BundleException(Reason.UNTRUSTED_SIGNER, "signer " + leaf.getSubjectX500Principal().getName()
                    + " (issued by " + leaf.getIssuerX500Principal().getName() + ") does not chain to the keyring: " + e.getMessage());
        } catch (java.security.GeneralSecurityException e) {
            throw new BundleException(Reason.UNTRUSTED_SIGNER, "certificate path cannot be built: " + e.getMessage());
        }
    }

    private static void checkKey(X509Certificate c, String role) throws BundleException {
        PublicKey k = c.getPublicKey();
        String sigAlg = c.getSigAlgName().toUpperCase(java.util.Locale.ROOT);
        if (sigAlg.contains("SHA1") || sigAlg.contains("MD5") || sigAlg.contains("MD2")) {
            throw new BundleException(Reason.WEAK_ALGORITHM, role + " certificate is signed with " + c.getSigAlgName());
        }
        if (k instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            if (bits < MIN_RSA_BITS) {
                throw new BundleException(Reason.WEAK_ALGORITHM, role + " key is RSA-" + bits + "; RSA needs at least " + MIN_RSA_BITS + " bits");
            }
        } else if (k instanceof ECPublicKey) {
            ASN1ObjectIdentifier curve = curveOf(k);
            if (curve == null || !CURVES.containsKey(curve)) {
                throw new BundleException(Reason.WEAK_ALGORITHM, role + " key is on curve " + curve + "; only P-256 and P-384 are allowed");
            }
        } else if (!"Ed25519".equals(k.getAlgorithm()) && !"EdDSA".equals(k.getAlgorithm())) {
            throw new BundleException(Reason.WEAK_ALGORITHM, role + " key algorithm " + k.getAlgorithm() + " is not allowed");
        } else if ("EdDSA".equals(k.getAlgorithm()) && !isEd25519(k)) {
            throw new BundleException(Reason.WEAK_ALGORITHM, role + " key is EdDSA but not Ed25519");
        }
    }

    private static boolean isEd25519(PublicKey k) {
        SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(k.getEncoded());
        return EdECObjectIdentifiers.id_Ed25519.equals(spki.getAlgorithm().getAlgorithm());
    }

    private static ASN1ObjectIdentifier curveOf(PublicKey k) {
        SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(k.getEncoded());
        var params = spki.getAlgorithm().getParameters();
        return params instanceof ASN1ObjectIdentifier oid ? oid : null;
    }

    private static void checkUsage(X509Certificate leaf) throws BundleException {
        boolean[] ku = leaf.getKeyUsage();
        if (ku == null || !ku[0]) {
            throw new BundleException(Reason.CERT_USAGE, "signer certificate " + leaf.getSubjectX500Principal().getName()
                    + " lacks the digitalSignature key usage");
        }
        List<String> eku;
        try {
            eku = leaf.getExtendedKeyUsage();
        } catch (java.security.cert.CertificateParsingException e) {
            throw new BundleException(Reason.CERT_USAGE, "signer extended key usage cannot be parsed: " + e.getMessage());
        }
        // PKIX does not check extended key usage (FIELD-NOTES): require codeSigning ourselves.
        if (eku == null || !eku.contains("1.3.6.1.5.5.7.3.3")) {
            throw new BundleException(Reason.CERT_USAGE, "signer certificate " + leaf.getSubjectX500Principal().getName()
                    + " lacks the codeSigning extended key usage");
        }
    }
}
