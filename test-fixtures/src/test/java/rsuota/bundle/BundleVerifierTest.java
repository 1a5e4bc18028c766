package rsuota.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.pki.TestPki;

class BundleVerifierTest {
    static TestPki pki;
    @TempDir static Path dir;
    static Path good;

    @BeforeAll
    static void setUp() throws IOException {
        pki = new TestPki();
        good = new BundleBuilder(dir).signedBy(pki, pki.signer).image("rootfs", 300_000).image("app", 70_000).build("good.rsub");
    }

    static BundleVerifier verifier() {
        return new BundleVerifier(VerifyOptions.of(pki.keyring()).withVariant("rsu-a1").withMinSecurityVersion(5));
    }

    static BundleException refusal(Path bundle) {
        return refusal(verifier(), bundle);
    }

    static BundleException refusal(BundleVerifier v, Path bundle) {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> v.verifyFile(bundle, null));
        assertThat(t).as("verification of %s must be refused", bundle.getFileName()).isInstanceOf(BundleException.class);
        return (BundleException) t;
    }

    static Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void aHeaderFileVerifiesAsTheBundleAndIsRefusedIfItsBytesChangeAfterTheParse() throws Exception {
        BundleHeader.Spooled h = BundleHeader.readSpooled(good);
        BundleVerifier.Verified v = verifier().verifyHeader(h);
        VerifiedManifest streamed = verifier().verifyFile(good, null);
        assertThat(v.manifestDigest()).isEqualTo(streamed.manifestDigest());
        assertThat(v.payloadOffset()).isEqualTo(streamed.payloadOffset());
        assertThat(v.manifest()).isEqualTo(streamed.manifest());
        // the parse saw other bytes than the signature check then reads (the file was replaced in between)
        BundleHeader.Spooled changed = new BundleHeader.Spooled(h.file(), h.formatVersion(), h.manifestOffset(), h.manifestLength(),
                "0".repeat(64), h.signature(), h.payloadOffset(), h.manifest());
        assertThatThrownBy(() -> verifier().verifyHeader(changed)).isInstanceOf(BundleException.class)
                .hasMessageContaining("changed between its parse and its signature check")
                .extracting(e -> ((BundleException) e).reason()).isEqualTo(Reason.SIGNATURE_INVALID);
    }

    @Test
    void goodBundleVerifiesWithEveryAllowedAlgorithm() throws Exception {
        for (TestPki.Identity id : List.of(pki.signer, pki.signerP384, pki.signerEd25519, pki.signerRsa3072)) {
            Path b = new BundleBuilder(dir).signedBy(pki, id).image("rootfs", 100_000).build("alg-" + id.cert().getSerialNumber() + ".rsub");
            VerifiedManifest vm = verifier().verifyFile(b, null);
            assertThat(vm.manifest().release()).isEqualTo("2.4.0");
            assertThat(vm.signer().subject()).contains(id.name());
            assertThat(vm.signer().signingTime()).isEqualTo(pki.now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        }
    }

    /** RSASSA-PSS (parameters in the signer info) verifies through the JDK, and a changed byte under it does not. */
    @Test
    void anRsaPssSignatureVerifiesAndATamperedOneIsRefused() throws Exception {
        byte[] manifest = BundleHeader.read(good).manifestBytes();
        TestPki.Identity id = pki.signerRsa3072;
        // Signed with BouncyCastle's own provider (the JDK has no PSS content signer BouncyCastle can name); verified by the JDK.
        var signer = new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withRSAandMGF1")
                .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider()).build(id.key());
        var attrs = new org.bouncycastle.asn1.ASN1EncodableVector();
        attrs.add(new org.bouncycastle.asn1.cms.Attribute(org.bouncycastle.asn1.cms.CMSAttributes.signingTime,
                new org.bouncycastle.asn1.DERSet(new org.bouncycastle.asn1.cms.Time(java.util.Date.from(pki.now)))));
        var gen = new org.bouncycastle.cms.CMSSignedDataGenerator();
        gen.addSignerInfoGenerator(new org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder(
                new org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder().build())
                .setSignedAttributeGenerator(new org.bouncycastle.cms.DefaultSignedAttributeTableGenerator(
                        new org.bouncycastle.asn1.cms.AttributeTable(attrs))).build(signer, id.cert()));
        List<java.security.cert.X509Certificate> certs = new ArrayList<>(List.of(id.cert()));
        certs.addAll(pki.chainFor(id));
        gen.addCertificates(new org.bouncycastle.cert.jcajce.JcaCertStore(certs));
        byte[] der = gen.generate(new org.bouncycastle.cms.CMSProcessableByteArray(manifest), false).getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER);
        assertThat(new String(der, StandardCharsets.ISO_8859_1)).as("the signer info names RSASSA-PSS")
                .contains(new String(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.id_RSASSA_PSS.getEncoded(), StandardCharsets.ISO_8859_1));
        assertThat(CmsVerifier.verify(manifest, der, VerifyOptions.of(pki.keyring())).subject()).contains(id.name());
        byte[] changed = manifest.clone();
        changed[changed.length - 2] ^= 1;
        assertThatThrownBy(() -> CmsVerifier.verify(changed, der, VerifyOptions.of(pki.keyring())))
                .isInstanceOf(BundleException.class).hasMessageContaining("does not match the manifest bytes");
    }

    @Test
    void verifiedManifestCarriesDigestOfTheExactSignedBytes() throws Exception {
        VerifiedManifest vm = verifier().verifyFile(good, null);
        BundleHeader h = BundleHeader.read(good);
        assertThat(vm.manifestDigest()).isEqualTo(Sha256.of(h.manifestBytes()));
        assertThat(vm.manifest().images()).extracting(ManifestImage::slotClass).containsExactly("rootfs", "app");
        assertThat(vm.manifest().images().get(0).chunkCount()).isEqualTo(5); // 300000 / 65536 -> 5 chunks
    }

    @Test
    void badMagic() throws Exception {
        byte[] b = Files.readAllBytes(good);
        b[0] = 'X';
        assertThat(refusal(write("magic.rsub", b)).reason()).isEqualTo(Reason.BAD_MAGIC);
    }

    @Test
    void unsupportedFormat() throws Exception {
        byte[] b = Files.readAllBytes(good);
        b[5] = 3;
        BundleException e = refusal(write("format.rsub", b));
        assertThat(e.reason()).isEqualTo(Reason.UNSUPPORTED_FORMAT);
        assertThat(e.getMessage()).contains("format version 3");
    }

    @Test
    void aHeaderClaimingFormat2OverAFormat1ManifestIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(good);
        b[5] = 2;
        BundleException e = refusal(write("format2.rsub", b));
        assertThat(e.reason()).isEqualTo(Reason.MALFORMED_MANIFEST);
        assertThat(e.getMessage()).contains("header says format 2");
    }

    @Test
    void cutAtEveryHeaderBoundaryIsTruncated() throws Exception {
        byte[] b = Files.readAllBytes(good);
        BundleHeader h = BundleHeader.read(good);
        int m = h.manifestBytes().length;
        int s = h.signature().length;
        // boundaries: inside magic, after magic, inside format, after format, inside/after lengths, inside manifest,
        // after manifest, inside sig length, after it, inside signature, at payload start, inside payload, one byte short
        int[] cuts = {0, 2, 4, 5, 6, 8, 10, 10 + m / 2, 10 + m, 12 + m, 14 + m, 14 + m + s / 2, (int) h.payloadOffset(),
                (int) h.payloadOffset() + 1000, b.length - 1};
        for (int cut : cuts) {
            Path p = write("cut-" + cut + ".rsub", Arrays.copyOf(b, cut));
            assertThat(refusal(p).reason()).as("cut at %d", cut).isEqualTo(Reason.TRUNCATED);
        }
    }

    @Test
    void hostileManifestLengthRefusedBeforeAllocation() throws Exception {
        ByteBuffer bb = ByteBuffer.allocate(10).put(BundleFormat.MAGIC).putShort((short) 1).putInt(0xFFFFFFF0);
        BundleException e = refusal(write("huge.rsub", bb.array()));
        assertThat(e.reason()).isEqualTo(Reason.MANIFEST_TOO_LARGE);
        assertThat(e.getMessage()).contains("4294967280");
    }

    @Test
    void hostileSignatureLengthRefusedBeforeAllocation() throws Exception {
        BundleHeader h = BundleHeader.read(good);
        byte[] head = BundleHeader.encode(h.manifestBytes(), new byte[0]);
        ByteBuffer.wrap(head).putInt(10 + h.manifestBytes().length, 0x7FFFFFFF);
        assertThat(refusal(write("hugesig.rsub", head)).reason()).isEqualTo(Reason.SIGNATURE_TOO_LARGE);
    }

    /** Signs an arbitrary manifest text, so malformed-but-signed manifests can be tested. */
    static Path signedRaw(String name, String manifestJson, byte[] payload) throws IOException {
        byte[] mb = manifestJson.getBytes(StandardCharsets.UTF_8);
        byte[] sig = CmsSigner.sign(mb, pki.signer.key(), pki.signer.cert(), pki.chainFor(pki.signer), pki.now);
        byte[] head = BundleHeader.encode(mb, sig);
        byte[] all = Arrays.copyOf(head, head.length + payload.length);
        System.arraycopy(payload, 0, all, head.length, payload.length);
        return write(name, all);
    }

    static String manifestJson(long size, int chunkSize, List<String> chunks, String imageSha) {
        return "{\"compatible\":[\"rsu-a1\"],\"components\":{\"app\":\"1\"},\"createdAt\":\"2026-11-27T00:00:00Z\","
                + "\"images\":[{\"chunkSize\":" + chunkSize + ",\"chunks\":" + toJson(chunks) + ",\"offset\":0,\"sha256\":\""
                + imageSha + "\",\"size\":" + size + ",\"slotClass\":\"rootfs\"}],\"release\":\"9.9.9\",\"securityVersion\":7}";
    }

    static String toJson(List<String> l) {
        return l.stream().map(s -> "\"" + s + "\"").reduce((a, b) -> a + "," + b).map(s -> "[" + s + "]").orElse("[]");
    }

    @Test
    void malformedManifests() throws Exception {
        String h = "a".repeat(64);
        List<String> bad = List.of(
                "not json",
                "{}",
                "[1,2]",
                "null",
                manifestJson(100, 65536, List.of(h), h).replace("\"securityVersion\":7", "\"securityVersion\":\"7\""),
                manifestJson(100, 65536, List.of(h), h).replace("\"release\":\"9.9.9\"", "\"release\":\"9.9.9\",\"extra\":1"),
                manifestJson(100, 65536, List.of(h), "xyz"),
                manifestJson(100, 1000, List.of(h), h),                               // chunk size below the minimum
                manifestJson(1L << 62, 65536, List.of(h), h),                         // huge declared size
                manifestJson(200_000, 65536, List.of(h, h), h),                       // chunk list too short: needs 4
                manifestJson(100, 65536, List.of(h, h), h),                           // chunk list too long
                manifestJson(100, 65536, List.of(h), h) + " {}");                     // trailing JSON
        for (int i = 0; i < bad.size(); i++) {
            BundleException e = refusal(signedRaw("malformed-" + i + ".rsub", bad.get(i), new byte[100]));
            assertThat(e.reason()).as("case %d: %s", i, bad.get(i)).isEqualTo(Reason.MALFORMED_MANIFEST);
        }
    }

    @Test
    void chunkListNotCoveringTheImageNamesTheField() throws Exception {
        String h = "a".repeat(64);
        BundleException e = refusal(signedRaw("cover.rsub", manifestJson(200_000, 65536, List.of(h, h), h), new byte[200_000]));
        assertThat(e.getMessage()).contains("images[0].chunks").contains("need exactly 4");
    }

    @Test
    void tamperedManifestByteIsSignatureInvalid() throws Exception {
        byte[] b = Files.readAllBytes(good);
        BundleHeader h = BundleHeader.read(good);
        String json = new String(h.manifestBytes(), StandardCharsets.UTF_8);
        int at = 10 + json.indexOf("\"2.4.0\"") + 5; // 2.4.0 -> 2.4.1, still a valid manifest
        b[at] = '1';
        BundleException e = refusal(write("tampered.rsub", b));
        assertThat(e.reason()).isEqualTo(Reason.SIGNATURE_INVALID);
    }

    static int lastIndexOf(byte[] hay, byte[] needle, int end) {
        for (int i = end - needle.length; i >= 0; i--) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) return i;
        }
        return -1;
    }

    /**
     * The signer identifier (issuer and serial) is covered by no signature, and names compare
     * case-insensitively (RFC 5280): a letter of it changed must still be refused, like any byte.
     * Found by BundleMutationPropertyTest (a flip of 0x20 in the issuer's name verified).
     */
    @Test
    void signerIdentifierNamingTheIssuerInAnotherCaseIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(good);
        int header = (int) BundleHeader.read(good).payloadOffset();
        String cn = new javax.naming.ldap.LdapName(pki.signer.cert().getIssuerX500Principal().getName()).getRdns().stream()
                .filter(r -> r.getType().equals("CN")).findFirst().orElseThrow().getValue().toString();
        int at = lastIndexOf(b, cn.getBytes(StandardCharsets.UTF_8), header);
        assertThat(at).as("the issuer's name in the signer identifier (after the certificates)").isPositive();
        b[at] ^= 0x20;
        BundleException e = refusal(write("sid-case.rsub", b));
        assertThat(e.reason()).isEqualTo(Reason.SIGNATURE_INVALID);
        assertThat(e.getMessage()).contains("signer identifier");
    }

    /**
     * A certificate's signature value lies outside what its issuer signed, and the JDK verifies its
     * bytes whatever the BIT STRING's unused-bits count says; DER wants 0. When the signature's last
     * byte is even, the re-encoding check cannot see a count of 1 (no bit to clear): the signer's
     * certificate is made until it is, so that this test meets exactly that case.
     */
    @Test
    void certificateSignatureWithUnusedBitsIsRefused() throws Exception {
        TestPki p = pki;
        while ((p.signer.cert().getSignature()[p.signer.cert().getSignature().length - 1] & 1) != 0) p = new TestPki();
        Path bundle = new BundleBuilder(dir).signedBy(p, p.signer).image("rootfs", 50_000).build("even-sig.rsub");
        byte[] b = Files.readAllBytes(bundle);
        int header = (int) BundleHeader.read(bundle).payloadOffset();
        byte[] sig = p.signer.cert().getSignature();
        int at = lastIndexOf(b, sig, header) - 1;
        assertThat(at).as("the signer certificate's signature BIT STRING").isPositive();
        assertThat(b[at]).as("its unused-bits byte").isZero();
        b[at] = 1;
        BundleVerifier v = new BundleVerifier(VerifyOptions.of(p.keyring()).withVariant("rsu-a1"));
        BundleException e = refusal(v, write("cert-padbits.rsub", b));
        assertThat(e.reason()).isEqualTo(Reason.SIGNATURE_INVALID);
        assertThat(e.getMessage()).contains("unused bits");
    }

    @Test
    void garbageSignatureIsSignatureInvalid() throws Exception {
        BundleHeader h = BundleHeader.read(good);
        byte[] head = BundleHeader.encode(h.manifestBytes(), "not a CMS blob".getBytes());
        assertThat(refusal(write("garbage-sig.rsub", head)).reason()).isEqualTo(Reason.SIGNATURE_INVALID);
    }

    @Test
    void unsignedIsRefusedWithHowToSign() throws Exception {
        Path b = new BundleBuilder(dir).unsigned().image("rootfs", 70_000).build("unsigned.rsub");
        BundleException e = refusal(b);
        assertThat(e.reason()).isEqualTo(Reason.UNSIGNED);
        assertThat(e.getMessage()).contains("attach-signature");
    }

    @Test
    void rogueSignerIsUntrusted() throws Exception {
        Path b = new BundleBuilder(dir).signedBy(pki, pki.rogueSigner).image("rootfs", 70_000).build("rogue.rsub");
        BundleException e = refusal(b);
        assertThat(e.reason()).isEqualTo(Reason.UNTRUSTED_SIGNER);
        assertThat(e.getMessage()).contains("Rogue Code Signer");
    }

    @Test
    void signerWithoutItsIntermediateIsUntrusted() throws Exception {
        Path b = new BundleBuilder(dir).signedBy(pki, pki.signer).image("rootfs", 70_000).build("nochain.rsub");
        BundleHeader h = BundleHeader.read(b);
        byte[] sig = CmsSigner.sign(h.manifestBytes(), pki.signer.key(), pki.signer.cert(), List.of(), pki.now);
        Path out = dir.resolve("nochain2.rsub");
        BundleWriter.attachSignature(b, sig, out);
        assertThat(refusal(out).reason()).isEqualTo(Reason.UNTRUSTED_SIGNER);
    }

    @Test
    void expiredAndNotYetValidSignersAreRefusedAtTheSigningTime() throws Exception {
        Path exp = new BundleBuilder(dir).signedBy(pki, pki.expiredSigner).image("rootfs", 70_000).build("expired.rsub");
        BundleException e = refusal(exp);
        assertThat(e.reason()).isEqualTo(Reason.CERT_NOT_VALID_AT_SIGNING_TIME);
        assertThat(e.getMessage()).contains("Expired Signer").contains("signing time");
        Path fut = new BundleBuilder(dir).signedBy(pki, pki.notYetValidSigner).image("rootfs", 70_000).build("future.rsub");
        assertThat(refusal(fut).reason()).isEqualTo(Reason.CERT_NOT_VALID_AT_SIGNING_TIME);
    }

    @Test
    void expiredSignerIsAcceptedForASignatureMadeWhileItWasValid() throws Exception {
        // Validity is checked at the signing time: a bundle signed during the certificate's life stays
        // installable after the certificate expires, also on a box whose clock is synchronised.
        Instant lastWeek = pki.now.minus(Duration.ofDays(7));
        Path b = new BundleBuilder(dir).signedBy(pki, pki.recentlyExpiredSigner).signingTime(lastWeek)
                .image("rootfs", 70_000).build("old.rsub");
        BundleVerifier synced = new BundleVerifier(verifier().options().withTrustedNow(() -> Optional.of(pki.now)));
        assertThat(synced.verifyFile(b, null).signer().signingTime()).isEqualTo(lastWeek.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        // the same certificate signing now is refused
        Path now = new BundleBuilder(dir).signedBy(pki, pki.recentlyExpiredSigner).image("rootfs", 70_000).build("late.rsub");
        assertThat(refusal(synced, now).reason()).isEqualTo(Reason.CERT_NOT_VALID_AT_SIGNING_TIME);
    }

    @Test
    void signingTimeInTheFutureOfATrustedClockIsRefused() throws Exception {
        Path b = new BundleBuilder(dir).signedBy(pki, pki.signer).signingTime(pki.now.plus(Duration.ofDays(2)))
                .image("rootfs", 70_000).build("futuretime.rsub");
        BundleVerifier untrustedClock = verifier();
        assertThat(untrustedClock.verifyFile(b, null).manifest().release()).isEqualTo("2.4.0");
        BundleVerifier synced = new BundleVerifier(verifier().options().withTrustedNow(() -> Optional.of(pki.now)));
        BundleException e = refusal(synced, b);
        assertThat(e.reason()).isEqualTo(Reason.CERT_NOT_VALID_AT_SIGNING_TIME);
        assertThat(e.getMessage()).contains("future");
    }

    @Test
    void signerWithoutCodeSigningIsCertUsage() throws Exception {
        Path b = new BundleBuilder(dir).signedBy(pki, pki.noCodeSigningSigner).image("rootfs", 70_000).build("tls.rsub");
        BundleException e = refusal(b);
        assertThat(e.reason()).isEqualTo(Reason.CERT_USAGE);
        assertThat(e.getMessage()).contains("codeSigning");
    }

    @Test
    void rsa2048IsWeak() throws Exception {
        Path b = new BundleBuilder(dir).signedBy(pki, pki.rsa2048Signer).image("rootfs", 70_000).build("rsa2048.rsub");
        BundleException e = refusal(b);
        assertThat(e.reason()).isEqualTo(Reason.WEAK_ALGORITHM);
        assertThat(e.getMessage()).contains("RSA-2048");
    }

    @Test
    void incompatibleVariant() throws Exception {
        Path b = new BundleBuilder(dir).signedBy(pki, pki.signer).compatible("rsu-b2", "rsu-c3").image("rootfs", 70_000).build("variant.rsub");
        BundleException e = refusal(b);
        assertThat(e.reason()).isEqualTo(Reason.INCOMPATIBLE_VARIANT);
        assertThat(e.getMessage()).contains("rsu-a1").contains("rsu-b2");
    }

    @Test
    void downgradeBelowTheFloor() throws Exception {
        Path b = new BundleBuilder(dir).signedBy(pki, pki.signer).securityVersion(4).image("rootfs", 70_000).build("down.rsub");
        BundleException e = refusal(b);
        assertThat(e.reason()).isEqualTo(Reason.DOWNGRADE);
        assertThat(e.getMessage()).contains("security version 4").contains("floor 5");
    }

    @Test
    void payloadByteFlipNamesImageAndChunk() throws Exception {
        byte[] b = Files.readAllBytes(good);
        BundleHeader h = BundleHeader.read(good);
        int at = (int) h.payloadOffset() + 300_000 + 65_536 + 17; // image "app", chunk 1
        b[at] ^= 0x40;
        BundleException e = refusal(write("flip.rsub", b));
        assertThat(e.reason()).isEqualTo(Reason.CHUNK_HASH_MISMATCH);
        assertThat(e.getMessage()).contains("image 'app' chunk 1 of 2");
    }

    @Test
    void imageHashMismatchWhenChunksAgreeButTheImageHashDoesNot() throws Exception {
        byte[] payload = new byte[100_000];
        new java.util.Random(3).nextBytes(payload);
        List<String> chunks = new ArrayList<>();
        chunks.add(Sha256.of(payload, 0, 65536));
        chunks.add(Sha256.of(payload, 65536, 100_000 - 65536));
        Path b = signedRaw("imagehash.rsub", manifestJson(100_000, 65536, chunks, "b".repeat(64)), payload);
        BundleException e = refusal(b);
        assertThat(e.reason()).isEqualTo(Reason.IMAGE_HASH_MISMATCH);
        assertThat(e.getMessage()).contains("rootfs");
    }

    @Test
    void trailingBytesAreRefused() throws Exception {
        byte[] b = Files.readAllBytes(good);
        assertThat(refusal(write("trailing.rsub", Arrays.copyOf(b, b.length + 3))).reason()).isEqualTo(Reason.TRAILING_DATA);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3})
    void headerParsesFromAStreamOfTheFirstBytesOnly(int extra) throws Exception {
        byte[] b = Files.readAllBytes(good);
        BundleHeader onDisk = BundleHeader.read(good);
        byte[] front = Arrays.copyOf(b, (int) onDisk.payloadOffset() + extra);
        BundleHeader h = BundleHeader.read(new ByteArrayInputStream(front));
        assertThat(h.payloadOffset()).isEqualTo(onDisk.payloadOffset());
        assertThat(verifier().verifyHeader(h).manifest()).isEqualTo(onDisk.manifest());
    }

    @Test
    void verificationLeavesTheBundleUnchanged() throws Exception {
        byte[] before = Files.readAllBytes(good);
        verifier().verifyFile(good, null);
        assertThat(Files.readAllBytes(good)).isEqualTo(before);
    }
}
