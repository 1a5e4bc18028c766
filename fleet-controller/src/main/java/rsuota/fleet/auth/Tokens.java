package rsuota.fleet.auth;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.domain.Names;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.domain.TokenInfo;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.Tx;

/** Issues API tokens and turns a presented bearer token into a {@link Principal}. */
public final class Tokens {
    /** A token and its secret; the secret exists only in this value and is never stored. */
    public record Issued(TokenInfo info, String secret) {}

    private final Database db;
    private final AuditLog audit;

    public Tokens(Database db, AuditLog audit) {
        this.db = db;
        this.audit = audit;
    }

    /** Creates a token (audited as token.create). Labels are unique: they name the actor in the audit log. */
    public Issued create(Principal who, Role role, String label, String reason) throws FleetException {
        String l = Names.requireText(label, "label");
        if (l.length() > 128) throw FleetException.invalid("label", "longer than 128 characters");
        String r = Names.optionalText(reason, "reason");
        return db.write(tx -> issue(tx, who, role, l, r));
    }

    /**
     * Creates a token inside a caller's transaction (used by {@code init} for the first admin
     * token, together with the store's creation).
     */
    public Issued issue(Tx tx, Principal who, Role role, String label, String reason) throws java.sql.SQLException, FleetException {
        Optional<TokenInfo> taken = tx.tokens().findByLabel(label);
        if (taken.isPresent()) {
            throw new FleetException(ErrorCode.ALREADY_EXISTS, "a token labelled '" + label + "' exists (id " + taken.get().id()
                    + ", role " + taken.get().role().wire() + "): labels name actors in the audit log, pick another",
                    Map.of("label", label));
        }
        String secret = TokenSecret.generate();
        TokenInfo info = tx.tokens().insert(TokenSecret.hash(secret), role, label, Millis.now(audit.clock()), who.label());
        audit.append(tx, who, "token.create", "token:" + info.id(), reason, Map.of("label", label, "role", role.wire()));
        return new Issued(info, secret);
    }

    /** The principal a bearer token stands for; empty when the token is unknown or malformed. */
    public Optional<Principal> authenticate(String presented) throws FleetException {
        if (presented == null || presented.isEmpty() || presented.length() > TokenSecret.MAX_LENGTH) return Optional.empty();
        String hash = TokenSecret.hash(presented);
        return db.read(tx -> tx.tokens().findByHash(hash)).map(TokenInfo::principal);
    }

    public List<TokenInfo> list() throws FleetException {
        return db.read(tx -> tx.tokens().list());
    }
}
