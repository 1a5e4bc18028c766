package rsuota.fleet.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Date;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real OpenID Connect provider on a loopback port, enough of one for the controller and fleetctl:
 * the discovery document, the JWKS (whose key can be rotated), the device authorization endpoint
 * and the token endpoint of the device-code grant (RFC 8628), and RS256-signed tokens with chosen
 * claims. Tokens are signed with Nimbus, the same library the controller verifies with, but the
 * controller reaches the keys only over HTTP, as it would at a site.
 */
public final class OidcProvider implements AutoCloseable {
    private final HttpServer server;
    private final Clock clock;
    private volatile RSAKey key;
    private final AtomicInteger jwksFetches = new AtomicInteger();
    /** Answers the token endpoint gives to the device-code grant, in order; the last one repeats. */
    private final Deque<String> deviceAnswers = new ArrayDeque<>();
    private volatile String approvedToken;
    private volatile String lastDeviceForm;

    public OidcProvider(Clock clock) throws IOException, JOSEException {
        this.clock = clock;
        this.key = newKey();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/.well-known/openid-configuration", ex -> reply(ex, 200, """
                {"issuer":"%1$s","jwks_uri":"%1$s/jwks","token_endpoint":"%1$s/token","device_authorization_endpoint":"%1$s/device",
                 "grant_types_supported":["urn:ietf:params:oauth:grant-type:device_code"]}""".formatted(issuer())));
        server.createContext("/jwks", ex -> {
            jwksFetches.incrementAndGet();
            reply(ex, 200, new JWKSet(key.toPublicJWK()).toString());
        });
        server.createContext("/device", ex -> {
            lastDeviceForm = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            reply(ex, 200, """
                    {"device_code":"dev-code-1","user_code":"WDJB-MJHT","verification_uri":"%1$s/activate",
                     "verification_uri_complete":"%1$s/activate?user_code=WDJB-MJHT","expires_in":600,"interval":0}""".formatted(issuer()));
        });
        server.createContext("/token", ex -> {
            Map<String, String> form = form(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            if (!"urn:ietf:params:oauth:grant-type:device_code".equals(form.get("grant_type")) || !"dev-code-1".equals(form.get("device_code"))) {
                reply(ex, 400, "{\"error\":\"invalid_grant\"}");
                return;
            }
            String next;
            synchronized (deviceAnswers) {
                next = deviceAnswers.size() > 1 ? deviceAnswers.poll() : deviceAnswers.peek();
            }
            if (next == null || next.equals("approved")) {
                reply(ex, 200, "{\"access_token\":\"" + approvedToken + "\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
            } else {
                reply(ex, 400, "{\"error\":\"" + next + "\"}");
            }
        });
        server.start();
    }

    public URI issuer() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public int jwksFetches() {
        return jwksFetches.get();
    }

    /** The form fleetctl sent to the device authorization endpoint. */
    public String lastDeviceForm() {
        return lastDeviceForm;
    }

    /** A new signing key (new kid); tokens signed before fail from now on, as after a real rotation. */
    public void rotateKey() throws JOSEException {
        key = newKey();
    }

    /** What the token endpoint answers to successive polls, e.g. authorization_pending, then approved (with {@code token}). */
    public void deviceFlow(String token, String... answers) {
        synchronized (deviceAnswers) {
            deviceAnswers.clear();
            deviceAnswers.addAll(List.of(answers));
        }
        approvedToken = token;
    }

    /** A token as the provider issues it, for {@code user} in {@code groups}, valid for an hour from now. */
    public String token(String user, String audience, List<String> groups) throws JOSEException {
        return sign(claims(user, audience, groups, clock.instant().plus(Duration.ofHours(1))), key);
    }

    public JWTClaimsSet claims(String user, String audience, List<String> groups, Instant expires) {
        Instant now = clock.instant();
        return new JWTClaimsSet.Builder().issuer(issuer().toString()).subject("sub-" + user).audience(audience)
                .claim("preferred_username", user).claim("groups", groups)
                .issueTime(Date.from(now.minusSeconds(60))).notBeforeTime(Date.from(now.minusSeconds(60))).expirationTime(Date.from(expires)).build();
    }

    public String sign(JWTClaimsSet claims) throws JOSEException {
        return sign(claims, key);
    }

    /** Signed with a key the JWKS does not hold but the same kid: a forger who knows the kid. */
    public String signWithForeignKey(JWTClaimsSet claims) throws JOSEException {
        RSAKey foreign = new RSAKeyGenerator(2048).keyID(key.getKeyID()).generate();
        return sign(claims, foreign);
    }

    /** HS256 with the public modulus as the secret: the algorithm-confusion attack. */
    public String signHmacWithPublicKey(JWTClaimsSet claims) throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(new MACSigner(key.getModulus().decode()));
        return jwt.serialize();
    }

    private static String sign(JWTClaimsSet claims, RSAKey k) throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(k.getKeyID()).type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(new RSASSASigner(k));
        return jwt.serialize();
    }

    private static RSAKey newKey() throws JOSEException {
        return new RSAKeyGenerator(2048).keyIDFromThumbprint(true).generate();
    }

    private static Map<String, String> form(String body) {
        Map<String, String> m = new HashMap<>();
        for (String kv : body.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0) m.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return m;
    }

    private static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
