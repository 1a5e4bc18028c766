package rsuota.fleet.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.domain.TokenInfo;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.StoreSpec;
import rsuota.fleet.testing.StoreEngine;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import rsuota.fixtures.time.SettableClock;

/** A token's life on the real store: expiry, last use, rotation, revocation, each audited; refusals name the token, never the secret. */
@ParameterizedClass(name = "{0}")
@EnumSource(StoreEngine.class)
class TokenLifecycleTest {
    @TempDir
    Path dir;
    final SettableClock clock = new SettableClock(Instant.parse("2026-03-01T10:00:00Z"));
    final Principal admin = new Principal("admin", Role.ADMIN);
    @Parameter
    StoreEngine engine;
    StoreSpec spec;
    Database db;
    Tokens tokens;

    @BeforeEach
    void open() throws Exception {
        spec = engine.fresh(dir, "token_lifecycle");
        db = spec.open(clock);
        tokens = new Tokens(db, new AuditLog(clock));
    }

    @AfterEach
    void close() throws Exception {
        db.close();
    }

    interface ThrowingCall {
        void run() throws Exception;
    }

    static void refused(ThrowingCall call, String... words) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(FleetException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
            assertThat(e.getMessage()).contains(words);
        });
    }

    @Test
    void aRevokedTokenIsRefusedAtOnceNamingItButNotItsSecret() throws Exception {
        Tokens.Issued t = tokens.create(admin, Role.OPERATOR, "bob", "new operator");
        assertThat(tokens.authenticate(t.secret())).contains(new Principal("bob", Role.OPERATOR));
        TokenInfo revoked = tokens.revoke(admin, t.info().id(), "left the team");
        assertThat(revoked.state(clock.instant())).isEqualTo("revoked");
        assertThat(revoked.revokedBy()).isEqualTo("admin");
        refused(() -> tokens.authenticate(t.secret()), "revoked", "'bob'", "token " + t.info().id());
        assertThatThrownBy(() -> tokens.authenticate(t.secret())).hasMessageNotContaining(t.secret());
        assertThat(db.read(tx -> tx.audit().page(0, 100)).stream().map(a -> a.action())).containsExactly("token.create", "token.revoke");
    }

    @Test
    void aTokenExpiresAfterNinetyDaysByDefaultOrItsOwnTtl() throws Exception {
        Tokens.Issued carol = tokens.create(admin, Role.OPERATOR, "carol", null);
        Tokens.Issued script = tokens.create(admin, Role.VIEWER, "ci-script", null, "7d");
        assertThat(carol.info().expiresAt()).isEqualTo(clock.instant().plus(Duration.ofDays(90)));
        clock.advance(Duration.ofDays(7));
        refused(() -> tokens.authenticate(script.secret()), "expired", "'ci-script'", "fleetctl token rotate " + script.info().id());
        clock.advance(Duration.ofDays(83).minusSeconds(1));
        assertThat(tokens.authenticate(carol.secret())).isPresent();
        clock.advance(Duration.ofSeconds(1));
        refused(() -> tokens.authenticate(carol.secret()), "expired");
    }

    @Test
    void theControllersDefaultTtlAppliesAndBadTtlsAreRefusedNamingTheField() throws Exception {
        tokens.defaultTtl(Duration.ofDays(30));
        assertThat(tokens.create(admin, Role.VIEWER, "v", null).info().expiresAt()).isEqualTo(clock.instant().plus(Duration.ofDays(30)));
        for (String bad : new String[] {"0s", "731d", "forever"}) {
            assertThatThrownBy(() -> tokens.create(admin, Role.VIEWER, "w-" + bad, null, bad))
                    .isInstanceOfSatisfying(FleetException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
                        assertThat(e.getMessage()).contains("ttl");
                    });
        }
        assertThatThrownBy(() -> tokens.defaultTtl(Duration.ofDays(1000))).hasMessageContaining("--token-ttl");
        assertThat(tokens.list()).extracting(TokenInfo::label).containsExactly("v");
    }

    @Test
    void rotationGivesANewSecretInPlaceAndKillsTheOldOneEvenForAnExpiredToken() throws Exception {
        Tokens.Issued old = tokens.create(admin, Role.RELEASE_MANAGER, "rm", null, "1d");
        clock.advance(Duration.ofDays(2));
        refused(() -> tokens.authenticate(old.secret()), "expired");
        Tokens.Issued fresh = tokens.rotate(admin, old.info().id(), "expired over the weekend", null);
        assertThat(fresh.info().id()).isEqualTo(old.info().id());
        assertThat(fresh.info().label()).isEqualTo("rm");
        assertThat(fresh.secret()).isNotEqualTo(old.secret());
        assertThat(fresh.info().expiresAt()).isEqualTo(clock.instant().plus(Duration.ofDays(90)));
        assertThat(tokens.authenticate(fresh.secret())).contains(new Principal("rm", Role.RELEASE_MANAGER));
        assertThat(tokens.authenticate(old.secret())).as("the old secret is unknown now").isEmpty();

        tokens.revoke(admin, old.info().id(), "gone");
        assertThatThrownBy(() -> tokens.rotate(admin, old.info().id(), null, null))
                .isInstanceOfSatisfying(FleetException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ILLEGAL_TRANSITION));
        assertThat(db.read(tx -> tx.audit().page(0, 100)).stream().map(a -> a.action()))
                .containsExactly("token.create", "token.rotate", "token.revoke");
    }

    @Test
    void lastUseIsRecordedAtMostOnceAMinute() throws Exception {
        Tokens.Issued t = tokens.create(admin, Role.VIEWER, "dash", null);
        assertThat(tokens.list().get(0).lastUsedAt()).isNull();
        Instant first = clock.instant();
        tokens.authenticate(t.secret());
        clock.advance(Duration.ofSeconds(30));
        tokens.authenticate(t.secret());
        assertThat(tokens.list().get(0).lastUsedAt()).isEqualTo(first);
        clock.advance(Duration.ofSeconds(30));
        tokens.authenticate(t.secret());
        assertThat(tokens.list().get(0).lastUsedAt()).isEqualTo(clock.instant());
    }

    @Test
    void revokingAnUnknownOrRevokedTokenChangesNothing() throws Exception {
        Tokens.Issued t = tokens.create(admin, Role.OPERATOR, "dave", null);
        tokens.revoke(admin, t.info().id(), "rotation of staff");
        long audit = db.read(tx -> tx.audit().count());
        assertThatThrownBy(() -> tokens.revoke(admin, t.info().id(), "again"))
                .isInstanceOfSatisfying(FleetException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ILLEGAL_TRANSITION));
        assertThatThrownBy(() -> tokens.revoke(admin, 999, "typo"))
                .isInstanceOfSatisfying(FleetException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThatThrownBy(() -> tokens.revoke(admin, t.info().id(), " "))
                .isInstanceOfSatisfying(FleetException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
        long after = db.read(tx -> tx.audit().count());
        assertThat(after).isEqualTo(audit);
    }
}
