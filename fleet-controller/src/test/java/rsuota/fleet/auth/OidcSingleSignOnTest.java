package rsuota.fleet.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.cli.Fleetctl;
import rsuota.fleet.domain.Role;
import rsuota.fleet.testing.OidcProvider;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/**
 * Single sign-on against a real (loopback) OpenID Connect provider: the controller fetches its
 * JWKS over HTTP and takes a good token with the role its group maps to, and refuses expired,
 * wrong-audience, wrong-issuer, wrong-key, HMAC-confused and group-less tokens with a reason;
 * key rotation at the provider is followed; {@code fleetctl login} gets a token by the device-code
 * flow and later commands use it.
 */
class OidcSingleSignOnTest {
    private static final String AUD = "rsu-fleet-controller";

    @TempDir
    Path dir;

    RunningController rc;
    OidcProvider idp;

    @BeforeEach
    void start() throws Exception {
        rc = new RunningController(new TestPki(), dir);
        idp = new OidcProvider(rc.clock);
        rc.controller.tokens().oidc(OidcVerifier.create(new OidcVerifier.Config(idp.issuer(), AUD, null, "groups",
                Map.of("rsu-ops", Role.OPERATOR, "rsu-viewers", Role.VIEWER, "rsu-admins", Role.ADMIN), Duration.ofSeconds(60)), rc.clock));
    }

    @AfterEach
    void stop() {
        if (rc != null) rc.close();
        if (idp != null) idp.close();
    }

    @Test
    void aGoodTokenActsWithTheRoleItsGroupMapsToAndIsAuditedUnderItsUser() throws Exception {
        String alice = idp.token("alice", AUD, List.of("staff", "rsu-ops"));
        assertThat(rc.get("/api/v1/devices", alice).statusCode()).isEqualTo(200);
        HttpResponse<String> opened = rc.send("POST", "/api/v1/incidents", alice, "application/json",
                "{\"id\":\"INC-7\",\"severity\":\"sev2\",\"state\":\"triggered\",\"release\":\"2.4.0\"}");
        assertThat(opened.statusCode()).as(opened.body()).isEqualTo(200);
        assertThat(rc.controller.auditTrail().page(0, 100)).anySatisfy(e -> {
            assertThat(e.action()).isEqualTo("incident.open");
            assertThat(e.actor()).isEqualTo("oidc:alice");
        });
        // Operator, not admin: token management is refused.
        assertThat(rc.send("POST", "/api/v1/tokens", alice, "application/json", "{\"label\":\"x\",\"role\":\"viewer\",\"reason\":\"r\"}").statusCode())
                .isEqualTo(403);
        // Highest of several mapped groups wins.
        assertThat(rc.get("/api/v1/tokens", idp.token("root", AUD, List.of("rsu-viewers", "rsu-admins"))).statusCode()).isEqualTo(200);
    }

    @Test
    void expiredWrongAudienceWrongIssuerWrongKeyAndAlgorithmConfusionAreRefusedWithTheirReason() throws Exception {
        Instant now = rc.clock.instant();
        assertRefused(idp.sign(idp.claims("bob", AUD, List.of("rsu-ops"), now.minus(Duration.ofMinutes(5)))), 401, "Expired JWT");
        // Within the 60 s skew the controller allows, a just-expired token still passes.
        assertThat(rc.get("/api/v1/devices", idp.sign(idp.claims("bob", AUD, List.of("rsu-ops"), now.minusSeconds(30)))).statusCode()).isEqualTo(200);
        assertRefused(idp.token("bob", "some-other-app", List.of("rsu-ops")), 401, "audience");
        var foreignIssuer = new com.nimbusds.jwt.JWTClaimsSet.Builder(idp.claims("bob", AUD, List.of("rsu-ops"), now.plusSeconds(600)))
                .issuer("https://evil.example").build();
        assertRefused(idp.sign(foreignIssuer), 401, "iss");
        assertRefused(idp.signWithForeignKey(idp.claims("bob", AUD, List.of("rsu-ops"), now.plusSeconds(600))), 401, "refused");
        assertRefused(idp.signHmacWithPublicKey(idp.claims("bob", AUD, List.of("rsu-ops"), now.plusSeconds(600))), 401, "refused");
        assertRefused(idp.token("carol", AUD, List.of("staff")), 403, "none of the groups");
        // The clock moves on: the good token of an hour ago is now expired too.
        String dave = idp.token("dave", AUD, List.of("rsu-ops"));
        rc.clock.advance(Duration.ofHours(2));
        assertRefused(dave, 401, "Expired JWT");
    }

    @Test
    void aKeyRotationAtTheProviderIsFollowedAndTokensOfTheOldKeyStopWorking() throws Exception {
        String before = idp.token("erin", AUD, List.of("rsu-ops"));
        assertThat(rc.get("/api/v1/devices", before).statusCode()).isEqualTo(200);
        int fetches = idp.jwksFetches();
        idp.rotateKey();
        String after = idp.token("erin", AUD, List.of("rsu-ops"));
        assertThat(rc.get("/api/v1/devices", after).statusCode()).isEqualTo(200);
        assertThat(idp.jwksFetches()).isGreaterThan(fetches);
        assertThat(rc.get("/api/v1/devices", before).statusCode()).isEqualTo(401);
    }

    @Test
    void fleetctlLoginGetsATokenByTheDeviceCodeFlowAndLaterCommandsUseIt() throws Exception {
        Path tokenFile = dir.resolve("home/.config/rsu-ota/fleetctl-token");
        idp.deviceFlow(idp.token("frank", AUD, List.of("rsu-viewers")), "authorization_pending", "authorization_pending", "approved");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Fleetctl.execute(new String[] {"--token-file", tokenFile.toString(), "login", "--issuer", idp.issuer().toString(),
                "--client-id", "fleetctl"}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertThat(code).as(err.toString()).isZero();
        assertThat(err.toString()).contains("To sign in, open " + idp.issuer() + "/activate?user_code=WDJB-MJHT");
        assertThat(idp.lastDeviceForm()).contains("client_id=fleetctl").contains("scope=openid+profile+groups");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile))).isEqualTo("rw-------");

        out = new StringWriter();
        code = Fleetctl.execute(new String[] {"--url", rc.contractUri().toString(), "--token-file", tokenFile.toString(), "device", "list"},
                new PrintWriter(out, true), new PrintWriter(err, true));
        assertThat(code).as(err.toString()).isZero();

        idp.deviceFlow(null, "access_denied");
        StringWriter denied = new StringWriter();
        code = Fleetctl.execute(new String[] {"--token-file", dir.resolve("other").toString(), "login", "--issuer", idp.issuer().toString(),
                "--client-id", "fleetctl"}, new PrintWriter(new StringWriter(), true), new PrintWriter(denied, true));
        assertThat(code).isEqualTo(4);
        assertThat(denied.toString()).contains("refused at the provider");
        assertThat(dir.resolve("other")).doesNotExist();
    }

    private void assertRefused(String token, int status, String reason) throws Exception {
        HttpResponse<String> r = rc.get("/api/v1/devices", token);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.body()).contains(reason);
    }
}
