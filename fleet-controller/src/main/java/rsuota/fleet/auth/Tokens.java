package rsuota.fleet.auth;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.Durations;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.domain.Names;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.domain.TokenInfo;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.Tx;

/**
 * Issues API tokens, turns a presented bearer token into a {@link Principal}, and runs their
 * lifecycle: every token expires ({@link #DEFAULT_TTL} unless its creator or the controller's
 * {@code --token-ttl} says otherwise), can be listed with its last use, rotated (a new secret in
 * place, the old one dead at once) and revoked; a revoked or expired token gets 401 at its next
 * request. Every change is audited. docs/security.md has the threat table.
 */
public final class Tokens {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Tokens.class);
    /** A token and its secret; the secret exists only in this value and is never stored. */
    public record Issued(TokenInfo info, String secret) {}

    /** How long a token lives unless its creator says otherwise. */
    public static final Duration DEFAULT_TTL = Duration.ofDays(90);
    /** The longest life a token may be given: two years. */
    public static final Duration MAX_TTL = Duration.ofDays(730);
    /** A token's last use is written at most this often: no store write on every request. */
    static final Duration TOUCH_EVERY = Duration.ofMinutes(1);

    private final Database db;
    private final AuditLog audit;
    private volatile Duration defaultTtl = DEFAULT_TTL;

    public Tokens(Database db, AuditLog audit) {
        this.db = db;
        this.audit = audit;
    }

    /** The life of tokens created or rotated without a ttl of their own (--token-ttl). */
    public Tokens defaultTtl(Duration ttl) {
        this.defaultTtl = checkTtl(ttl, "--token-ttl");
        return this;
    }

    /** A token's life: positive and at most {@link #MAX_TTL}; {@code field} names where it came from. */
    public static Duration checkTtl(Duration ttl, String field) {
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException(field + " must be more than 0 and at most " + Durations.format(MAX_TTL) + ", got " + Durations.format(ttl));
        }
        return ttl;
    }

    private Duration ttl(String text) throws FleetException {
        if (text == null) return defaultTtl;
        Duration d = Durations.parse(text, "ttl");
        try {
            return checkTtl(d, "ttl");
        } catch (IllegalArgumentException e) {
            throw FleetException.invalid("ttl", e.getMessage() + " (e.g. 30d, 12h)");
        }
    }

    /** Creates a token (audited as token.create). Labels are unique: they name the actor in the audit log. */
    public Issued create(Principal who, Role role, String label, String reason) throws FleetException {
        return create(who, role, label, reason, null);
    }

    /** As above, living {@code ttl} ("30d"; null: the controller's default). */
    public Issued create(Principal who, Role role, String label, String reason, String ttl) throws FleetException {
        String l = Names.requireText(label, "label");
        if (l.length() > 128) throw FleetException.invalid("label", "longer than 128 characters");
        String r = Names.optionalText(reason, "reason");
        Duration life = ttl(ttl);
        return db.write(tx -> issue(tx, who, role, l, r, life));
    }

    /**
     * Creates a token inside a caller's transaction (used by {@code init} for the first admin
     * token, together with the store's creation, and by {@code admin-token}).
     */
    public Issued issue(Tx tx, Principal who, Role role, String label, String reason) throws java.sql.SQLException, FleetException {
        return issue(tx, who, role, label, reason, defaultTtl);
    }

    private Issued issue(Tx tx, Principal who, Role role, String label, String reason, Duration life) throws java.sql.SQLException, FleetException {
        Optional<TokenInfo> taken = tx.tokens().findByLabel(label);
        if (taken.isPresent()) {
            throw new FleetException(ErrorCode.ALREADY_EXISTS, "a token labelled '" + label + "' exists (id " + taken.get().id()
                    + ", role " + taken.get().role().wire() + "): labels name actors in the audit log, pick another",
                    Map.of("label", label));
        }
        String secret = TokenSecret.generate();
        Instant now = Millis.now(audit.clock());
        Instant expires = now.plus(life);
        TokenInfo info = tx.tokens().insert(TokenSecret.hash(secret), role, label, now, who.label(), expires);
        audit.append(tx, who, "token.create", "token:" + info.id(), reason,
                Map.of("label", label, "role", role.wire(), "expiresAt", expires.toString()));
        return new Issued(info, secret);
    }

    /**
     * The principal a bearer token stands for; empty when the token is unknown or malformed. A
     * revoked or expired token is refused with UNAUTHENTICATED naming the token's id and label
     * (never the presented secret) and what to do.
     */
    public Optional<Principal> authenticate(String presented) throws FleetException {
        if (presented != null && OidcVerifier.looksLikeJwt(presented)) {
            OidcVerifier v = oidc;
            if (v == null) {
                throw new FleetException(ErrorCode.UNAUTHENTICATED, "this is a JWT, but this controller accepts no single sign-on tokens"
                        + " (start it with --oidc-issuer); use an API token");
            }
            return Optional.of(v.authenticate(presented));
        }
        if (presented == null || presented.isEmpty() || presented.length() > TokenSecret.MAX_LENGTH) return Optional.empty();
        String hash = TokenSecret.hash(presented);
        Optional<TokenInfo> found = db.read(tx -> tx.tokens().findByHash(hash));
        if (found.isEmpty()) return Optional.empty();
        TokenInfo t = found.get();
        Instant now = Millis.now(audit.clock());
        switch (t.state(now)) {
            case "revoked" -> throw new FleetException(ErrorCode.UNAUTHENTICATED, "token " + t.id() + " ('" + t.label() + "') was revoked at "
                    + t.revokedAt() + " by " + t.revokedBy() + ": ask an admin for a new one");
            case "expired" -> throw new FleetException(ErrorCode.UNAUTHENTICATED, "token " + t.id() + " ('" + t.label() + "') expired at "
                    + t.expiresAt() + ": ask an admin to rotate it (fleetctl token rotate " + t.id() + ")");
            default -> {
            }
        }
        if (t.lastUsedAt() == null || !now.isBefore(t.lastUsedAt().plus(TOUCH_EVERY))) {
            try {
                db.write(tx -> {
                    tx.tokens().touch(t.id(), now);
                    return null;
                });
            } catch (FleetException e) {
                // Bookkeeping only: a busy store must not refuse an authenticated request; the next use writes it.
                log.warn("last use of token {} not recorded: {}", t.id(), e.getMessage());
            }
        }
        return Optional.of(t.principal());
    }

    private volatile OidcVerifier oidc;

    /** Also accept JWTs from the site's OpenID Connect provider (null: API tokens only). */
    public void oidc(OidcVerifier verifier) {
        this.oidc = verifier;
    }

    /** Revokes a token by id (audited as token.revoke); its next request gets 401. */
    public TokenInfo revoke(Principal who, long id, String reason) throws FleetException {
        String r = Names.requireText(reason, "reason");
        return db.write(tx -> {
            TokenInfo t = tx.tokens().find(id).orElseThrow(() -> FleetException.notFound("no token " + id + " (fleetctl token list)"));
            Instant now = Millis.now(audit.clock());
            if (!tx.tokens().revoke(id, now, who.label())) {
                throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "token " + id + " ('" + t.label() + "') is revoked already",
                        Map.of("id", id));
            }
            audit.append(tx, who, "token.revoke", "token:" + id, r, Map.of("label", t.label(), "role", t.role().wire()));
            return tx.tokens().find(id).orElseThrow();
        });
    }

    /**
     * A new secret for token {@code id} (audited as token.rotate), living {@code ttl} from now; the old
     * secret gets 401 from this moment. An expired token can be rotated (that is how its holder gets
     * back in); a revoked one cannot.
     */
    public Issued rotate(Principal who, long id, String reason, String ttl) throws FleetException {
        String r = Names.optionalText(reason, "reason");
        Duration life = ttl(ttl);
        return db.write(tx -> {
            TokenInfo t = tx.tokens().find(id).orElseThrow(() -> FleetException.notFound("no token " + id + " (fleetctl token list)"));
            String secret = TokenSecret.generate();
            Instant now = Millis.now(audit.clock());
            Instant expires = now.plus(life);
            if (!tx.tokens().rotate(id, TokenSecret.hash(secret), now, who.label(), expires)) {
                throw new FleetException(ErrorCode.ILLEGAL_TRANSITION, "token " + id + " ('" + t.label() + "') is revoked: create a new one",
                        Map.of("id", id));
            }
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("label", t.label());
            detail.put("role", t.role().wire());
            detail.put("expiresAt", expires.toString());
            audit.append(tx, who, "token.rotate", "token:" + id, r, detail);
            return new Issued(tx.tokens().find(id).orElseThrow(), secret);
        });
    }

    /** The token that authenticated {@code who} (labels are unique). */
    public TokenInfo own(Principal who) throws FleetException {
        return db.read(tx -> tx.tokens().findByLabel(who.label()))
                .orElseThrow(() -> FleetException.notFound("the calling token ('" + who.label() + "') is not in the store"));
    }

    public List<TokenInfo> page(long afterId, int limit) throws FleetException {
        return db.read(tx -> tx.tokens().page(afterId, limit));
    }

    public List<TokenInfo> list() throws FleetException {
        return db.read(tx -> tx.tokens().list());
    }

    public Instant now() {
        return Millis.now(audit.clock());
    }
}
