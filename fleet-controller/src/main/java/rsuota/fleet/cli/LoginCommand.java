package rsuota.fleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code fleetctl login}: a token from the site's OpenID Connect provider by the device
 * authorization grant (RFC 8628), for an operator at a terminal without a browser on the same box:
 * fleetctl prints a URL and a code, the operator approves on any device, fleetctl polls the token
 * endpoint (honouring {@code interval} and {@code slow_down}) and saves the access token to the
 * token file (mode 0600), which later commands use when neither --token nor FLEETCTL_TOKEN is set.
 */
@Command(name = "login", mixinStandardHelpOptions = true,
        description = "Sign in through the site's OpenID Connect provider (device-code flow) and save the token for later commands.")
final class LoginCommand implements Callable<Integer> {
    @ParentCommand
    Fleetctl root;

    @Option(names = "--issuer", required = true, paramLabel = "URL", description = "the provider's issuer URL (the controller's --oidc-issuer)")
    URI issuer;

    @Option(names = "--client-id", required = true, paramLabel = "ID", description = "fleetctl's public client id at the provider")
    String clientId;

    @Option(names = "--scope", paramLabel = "SCOPES", defaultValue = "openid profile groups", description = "scopes to ask for (default '${DEFAULT-VALUE}')")
    String scope;

    @Option(names = "--max-wait", defaultValue = "600", paramLabel = "SECONDS", description = "give up after this long without approval (default ${DEFAULT-VALUE})")
    int maxWaitSeconds;

    @Override
    public Integer call() throws CliFailure {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(root.timeoutSeconds)).build();
        JsonNode discovery = get(http, URI.create(issuer.toString().replaceAll("/+$", "") + "/.well-known/openid-configuration"));
        String deviceEndpoint = discovery.path("device_authorization_endpoint").asText(null);
        String tokenEndpoint = discovery.path("token_endpoint").asText(null);
        if (deviceEndpoint == null || tokenEndpoint == null) {
            throw new CliFailure(ExitCodes.REJECTED, issuer + " does not offer the device-code flow (no device_authorization_endpoint);"
                    + " get a token from the provider another way and pass it with FLEETCTL_TOKEN");
        }
        JsonNode grant = post(http, URI.create(deviceEndpoint), Map.of("client_id", clientId, "scope", scope));
        String deviceCode = grant.path("device_code").asText(null);
        if (deviceCode == null) throw new CliFailure(ExitCodes.REJECTED, deviceEndpoint + " answered without a device_code: " + grant);
        String uri = grant.path("verification_uri_complete").asText(grant.path("verification_uri").asText());
        var err = root.spec.commandLine().getErr();
        err.println("To sign in, open " + uri + (grant.has("verification_uri_complete") ? "" : " and enter the code " + grant.path("user_code").asText()));
        err.flush();
        long interval = grant.path("interval").asLong(5);
        long deadline = System.nanoTime() + Duration.ofSeconds(Math.min(maxWaitSeconds, grant.path("expires_in").asLong(maxWaitSeconds))).toNanos();
        while (true) {
            pause(interval);
            HttpResponse<String> r = send(http, form(URI.create(tokenEndpoint), Map.of("grant_type", "urn:ietf:params:oauth:grant-type:device_code",
                    "device_code", deviceCode, "client_id", clientId)));
            JsonNode body = parse(tokenEndpoint, r.body());
            if (r.statusCode() == 200) {
                String token = body.path("access_token").asText(null);
                if (token == null) throw new CliFailure(ExitCodes.REJECTED, tokenEndpoint + " approved but sent no access_token");
                Path file = root.tokenFile();
                save(file, token);
                root.out().println("signed in; token saved to " + file + (body.has("expires_in") ? " (valid " + body.get("expires_in").asLong() + " s)" : ""));
                return ExitCodes.OK;
            }
            String error = body.path("error").asText("");
            switch (error) {
                case "authorization_pending" -> { }
                case "slow_down" -> interval += 5;
                case "access_denied" -> throw new CliFailure(ExitCodes.FORBIDDEN, "sign-in was refused at the provider");
                case "expired_token" -> throw new CliFailure(ExitCodes.TIMEOUT, "the code expired before it was approved: run fleetctl login again");
                default -> throw new CliFailure(ExitCodes.REJECTED, tokenEndpoint + " answered " + r.statusCode() + ": " + r.body());
            }
            if (System.nanoTime() - deadline > 0) throw new CliFailure(ExitCodes.TIMEOUT, "no approval within " + maxWaitSeconds + " s: run fleetctl login again");
        }
    }

    private static void pause(long seconds) throws CliFailure {
        if (seconds <= 0) return;
        try {
            Thread.sleep(seconds * 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(ExitCodes.FAILED, "interrupted while waiting for approval");
        }
    }

    /** Written to a temp file readable by this user only, then renamed: the token never sits in a world-readable file. */
    static void save(Path file, String token) throws CliFailure {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, token + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.LOCAL_IO, "cannot save the token to " + file + ": " + e.getMessage(), e);
        }
    }

    private JsonNode get(HttpClient http, URI uri) throws CliFailure {
        HttpResponse<String> r = send(http, HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(root.timeoutSeconds)).GET().build());
        if (r.statusCode() != 200) throw new CliFailure(ExitCodes.REJECTED, uri + " answered " + r.statusCode() + ": is --issuer right?");
        return parse(uri.toString(), r.body());
    }

    private JsonNode post(HttpClient http, URI uri, Map<String, String> fields) throws CliFailure {
        HttpResponse<String> r = send(http, form(uri, fields));
        if (r.statusCode() != 200) throw new CliFailure(ExitCodes.REJECTED, uri + " answered " + r.statusCode() + ": " + r.body());
        return parse(uri.toString(), r.body());
    }

    private HttpRequest form(URI uri, Map<String, String> fields) {
        String body = new LinkedHashMap<>(fields).entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(root.timeoutSeconds)).header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private HttpResponse<String> send(HttpClient http, HttpRequest req) throws CliFailure {
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.UNREACHABLE, "cannot reach " + req.uri() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(ExitCodes.FAILED, "interrupted");
        }
    }

    private static JsonNode parse(String where, String body) throws CliFailure {
        try {
            return ApiClient.JSON.readTree(body);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.REJECTED, where + " answered no JSON: " + e.getMessage());
        }
    }
}
