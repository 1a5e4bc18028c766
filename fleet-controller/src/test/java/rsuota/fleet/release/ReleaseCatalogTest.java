package rsuota.fleet.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Release;
import rsuota.fleet.domain.Role;
import rsuota.fleet.store.Table;
import rsuota.fleet.testing.Bundles;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

class ReleaseCatalogTest {
    static TestPki pki;
    @TempDir
    Path dir;
    RunningController rc;
    ReleaseCatalog releases;
    final Principal rm = new Principal("rm", Role.RELEASE_MANAGER);

    @BeforeAll
    static void pki() {
        pki = new TestPki();
    }

    @BeforeEach
    void start() throws Exception {
        rc = new RunningController(pki, dir);
        releases = rc.controller.releases();
    }

    @AfterEach
    void stop() {
        rc.close();
    }

    @Test
    void releaseIsCreatedFromTheVerifiedManifest() throws Exception {
        String name = Bundles.publish(Bundles.build(pki, dir.resolve("work"), "2.4.0", "rsu-a1", "rsu-a2"), rc.artifacts());
        Release r = releases.create(rm, new ReleaseCatalog.NewRelease(name, null, null, "first", "test"));
        assertThat(r.version()).isEqualTo("2.4.0");
        assertThat(r.compatible()).containsExactly("rsu-a1", "rsu-a2");
        assertThat(r.bundleUrl()).isEqualTo("/artifacts/" + name);
        assertThat(r.manifestDigest()).hasSize(64);
        assertThat(r.signer()).contains("RSU Test Code Signer");
        assertThat(releases.get("2.4.0")).isEqualTo(r);
        assertThat(rc.controller.auditTrail().page(0, 100)).last()
                .satisfies(e -> {
                    assertThat(e.action()).isEqualTo("release.create");
                    assertThat(e.target()).isEqualTo("release:2.4.0");
                    assertThat(e.actor()).isEqualTo("rm");
                    assertThat(e.reason()).isEqualTo("test");
                });
    }

    @Test
    void tamperedPayloadByteIsRefusedWithItsReasonCode() throws Exception {
        Path b = Bundles.build(pki, dir.resolve("work"), "2.4.1", "rsu-a1");
        byte[] bytes = Files.readAllBytes(b);
        bytes[bytes.length - 100] ^= 0x01;
        Files.write(rc.artifacts().resolve("tampered.rsub"), bytes);
        assertRefused("tampered.rsub", "CHUNK_HASH_MISMATCH");
    }

    @Test
    void tamperedManifestByteIsRefusedWithItsReasonCode() throws Exception {
        Path b = Bundles.build(pki, dir.resolve("work"), "2.4.2", "rsu-a1");
        byte[] bytes = Files.readAllBytes(b);
        // "RSUB" u16 u32 then the manifest: change the release version's last digit (still valid JSON).
        String head = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        int found = head.indexOf("\"release\":\"2.4.2\"");
        assertThat(found).isPositive();
        int at = found + "\"release\":\"2.4.".length();
        bytes[at] = '3';
        Files.write(rc.artifacts().resolve("manifest-tampered.rsub"), bytes);
        assertRefused("manifest-tampered.rsub", "SIGNATURE_INVALID");
    }

    @Test
    void rogueSignerIsRefusedWithItsReasonCode() throws Exception {
        String name = Bundles.publish(Bundles.build(pki, pki.rogueSigner, dir.resolve("work"), "2.4.3", "rsu-a1"), rc.artifacts());
        assertRefused(name, "UNTRUSTED_SIGNER");
    }

    @Test
    void aTakenVersionIsRefused() throws Exception {
        String name = Bundles.publish(Bundles.build(pki, dir.resolve("work"), "2.5.0", "rsu-a1"), rc.artifacts());
        releases.create(rm, new ReleaseCatalog.NewRelease(name, null, null, null, null));
        FleetException e = catchThrowableOfType(FleetException.class,
                () -> releases.create(rm, new ReleaseCatalog.NewRelease(name, null, null, null, null)));
        assertThat(e.code()).isEqualTo(ErrorCode.ALREADY_EXISTS);
        assertThat(e.getMessage()).contains("release 2.5.0 exists");
    }

    @Test
    void previousStableMustExist() throws Exception {
        String name = Bundles.publish(Bundles.build(pki, dir.resolve("work"), "2.6.0", "rsu-a1"), rc.artifacts());
        FleetException e = catchThrowableOfType(FleetException.class,
                () -> releases.create(rm, new ReleaseCatalog.NewRelease(name, null, "1.0.0", null, null)));
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(e.details()).containsEntry("field", "previousStable");
    }

    @Test
    void bundleNamesMayNotLeaveTheArtifactDirectory() throws Exception {
        Bundles.build(pki, dir.resolve("work"), "2.7.0", "rsu-a1");
        FleetException e = catchThrowableOfType(FleetException.class,
                () -> releases.create(rm, new ReleaseCatalog.NewRelease("../../work/x.rsub", null, null, null, null)));
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(e.getMessage()).contains("leaves the artifact directory");
    }

    @Test
    void aBundleOutsideTheArtifactDirectoryNeedsAUrl() throws Exception {
        Path b = Bundles.build(pki, dir.resolve("work"), "2.8.0", "rsu-a1");
        FleetException e = catchThrowableOfType(FleetException.class,
                () -> releases.create(rm, new ReleaseCatalog.NewRelease(b.toString(), null, null, null, null)));
        assertThat(e.details()).containsEntry("field", "bundleUrl");
        Release r = releases.create(rm, new ReleaseCatalog.NewRelease(b.toString(), "https://cdn.example/rsu-2.8.0.rsub", null, null, null));
        assertThat(r.bundleUrl()).isEqualTo("https://cdn.example/rsu-2.8.0.rsub");
    }

    private void assertRefused(String bundle, String reason) throws Exception {
        Map<Table, String> before = rc.snapshot();
        FleetException e = catchThrowableOfType(FleetException.class,
                () -> releases.create(rm, new ReleaseCatalog.NewRelease(bundle, null, null, null, null)));
        assertThat(e).as("bundle %s must be refused", bundle).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.BUNDLE_REJECTED);
        assertThat(e.details()).containsEntry("reason", reason);
        assertThat(e.getMessage()).contains(reason);
        assertThat(rc.snapshot()).as("a refused bundle changes nothing").isEqualTo(before);
    }
}
