package rsuota.fleet.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;

/**
 * Single sign-on: JWT bearer tokens from the site's OpenID Connect provider, checked with
 * Nimbus JOSE+JWT (no hand-written JOSE): the signature against the provider's JWKS (fetched,
 * cached, refreshed when an unknown key id appears, so key rotation works), the algorithm
 * (asymmetric only: RS, PS, ES; never {@code none} or HMAC, so a public key cannot be turned into a
 * shared secret), the issuer exactly, the audience, {@code exp} and {@code nbf} with a bounded
 * clock skew against the controller's {@link Clock}. The role is the highest one that a value of
 * the configured claim (default {@code groups}) maps to; a valid token none of whose groups maps
 * to a role is refused with 403. The principal is {@code oidc:<preferred_username or sub>}, which
 * is how it appears in the audit log.
 */
public final class OidcVerifier {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512, JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);

    /**
     * @param issuer     the provider's issuer URL, exactly as tokens carry it in {@code iss}
     * @param audience   what {@code aud} must contain (the controller's client id at the provider)
     * @param jwks       the provider's JWKS URL (discovered from the issuer when null)
     * @param rolesClaim the claim holding the user's groups
     * @param roleMap    group -> role
     * @param clockSkew  tolerance on exp/nbf (at most 5 minutes)
     */
    public record Config(URI issuer, String audience, URI jwks, String rolesClaim, Map<String, Role> roleMap, Duration clockSkew) {
        public Config {
            if (issuer == null || audience == null || audience.isBlank()) throw new IllegalArgumentException("OIDC needs an issuer and an audience");
            if (roleMap == null || roleMap.isEmpty()) {
                throw new IllegalArgumentException("OIDC needs at least one --oidc-role GROUP=ROLE: without it no token could carry a role");
            }
            if (clockSkew.isNegative() || clockSkew.compareTo(Duration.ofMinutes(5)) > 0) {
                throw new IllegalArgumentException("--oidc-clock-skew " + clockSkew + ": 0..5 minutes");
            }
            roleMap = Map.copyOf(roleMap);
        }
    }

    private final Config config;
    private final DefaultJWTProcessor<SecurityContext> processor;

    private OidcVerifier(Config config, URI jwks, Clock clock) throws IOException {
        this.config = config;
        JWKSource<SecurityContext> keys = JWKSourceBuilder.<SecurityContext>create(jwks.toURL()).retrying(true).build();
        processor = new DefaultJWTProcessor<>();
        // Access tokens (RFC 9068 "at+jwt") and ID-token style "JWT", or no typ at all.
        processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, keys));
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(config.audience(),
                new JWTClaimsSet.Builder().issuer(config.issuer().toString()).build(), Set.of("sub", "exp")) {
            @Override
            protected Date currentTime() {
                return Date.from(clock.instant());
            }
        };
        claims.setMaxClockSkew((int) config.clockSkew().toSeconds());
        processor.setJWTClaimsSetVerifier(claims);
    }

    /** Builds a verifier; without a JWKS URL, reads it from the issuer's discovery document. */
    public static OidcVerifier create(Config config, Clock clock) throws IOException {
        URI jwks = config.jwks();
        if (jwks == null) {
            JsonNode d = discover(config.issuer());
            if (!config.issuer().toString().equals(d.path("issuer").asText())) {
                throw new IOException("the discovery document of " + config.issuer() + " names issuer '" + d.path("issuer").asText()
                        + "': give --oidc-issuer exactly as the provider's tokens carry it");
            }
            if (!d.path("jwks_uri").isTextual()) throw new IOException("the discovery document of " + config.issuer() + " names no jwks_uri; give --oidc-jwks-url");
            jwks = URI.create(d.get("jwks_uri").asText());
        }
        return new OidcVerifier(config, jwks, clock);
    }

    /** The issuer's {@code /.well-known/openid-configuration}. */
    public static JsonNode discover(URI issuer) throws IOException {
        URI doc = URI.create(issuer.toString().replaceAll("/+$", "") + "/.well-known/openid-configuration");
        try {
            HttpResponse<byte[]> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
                    .send(HttpRequest.newBuilder(doc).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) throw new IOException(doc + " answered " + r.statusCode());
            return JSON.readTree(r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading " + doc, e);
        }
    }

    /** Whether {@code token} has the shape of a JWS compact serialisation (three base64url parts). */
    public static boolean looksLikeJwt(String token) {
        return token.startsWith("eyJ") && token.chars().filter(ch -> ch == '.').count() == 2;
    }

    /** The principal of a valid token; UNAUTHENTICATED naming why it is not, FORBIDDEN when no group maps to a role. */
    public Principal authenticate(String token) throws FleetException {
        JWTClaimsSet claims;
        try {
            claims = processor.process(token, null);
        } catch (ParseException e) {
            throw new FleetException(ErrorCode.UNAUTHENTICATED, "the OIDC token is not a JWT: " + e.getMessage());
        } catch (BadJOSEException e) {
            throw new FleetException(ErrorCode.UNAUTHENTICATED, "the OIDC token is refused: " + e.getMessage()
                    + " (issuer " + config.issuer() + ", audience " + config.audience() + "): sign in again (fleetctl login)");
        } catch (com.nimbusds.jose.JOSEException e) {
            throw new FleetException(ErrorCode.UNAUTHENTICATED, "the OIDC token cannot be checked: " + e.getMessage()
                    + " (is the provider's JWKS at reach?)");
        }
        String who = claimText(claims, "preferred_username");
        if (who == null) who = claims.getSubject();
        List<String> groups = groups(claims);
        Role best = null;
        for (String g : groups) {
            Role r = config.roleMap().get(g);
            if (r != null && (best == null || r.atLeast(best))) best = r;
        }
        if (best == null) {
            throw new FleetException(ErrorCode.FORBIDDEN, "oidc:" + who + " is signed in, but none of the groups in claim '" + config.rolesClaim()
                    + "' (" + groups + ") maps to a role; the controller maps " + config.roleMap().keySet() + " (--oidc-role GROUP=ROLE)",
                    new LinkedHashMap<>(Map.of("groups", groups)));
        }
        return new Principal("oidc:" + who, best);
    }

    private List<String> groups(JWTClaimsSet claims) {
        Object v = claims.getClaim(config.rolesClaim());
        List<String> out = new ArrayList<>();
        if (v instanceof String s) out.add(s);
        else if (v instanceof List<?> l) for (Object o : l) if (o instanceof String s) out.add(s);
        return out;
    }

    private static String claimText(JWTClaimsSet c, String name) {
        Object v = c.getClaim(name);
        return v instanceof String s && !s.isBlank() ? s : null;
    }
}
