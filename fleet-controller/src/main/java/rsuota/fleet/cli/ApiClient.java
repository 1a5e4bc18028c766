package rsuota.fleet.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * fleetctl's only way to the controller: its REST API over the JDK HttpClient. Non-2xx answers
 * and transport failures become {@link CliFailure} with the matching exit code.
 */
final class ApiClient {
    static final ObjectMapper JSON = JsonMapper.builder().build();

    /** A 2xx answer; etag is the ETag header (null when absent). */
    record Answer(int status, String contentType, String body, String etag) {
        JsonNode json() throws CliFailure {
            try {
                return JSON.readTree(body);
            } catch (JsonProcessingException e) {
                throw new CliFailure(ExitCodes.SERVER_ERROR, "the controller answered with invalid JSON: " + e.getOriginalMessage());
            }
        }
    }

    private final URI base;
    private final String token;
    private final Duration timeout;
    private final HttpClient http;

    /** Sent as If-Match with every request (fleetctl --if-match): a rollout decision then applies only to the rollout as read. */
    private String ifMatch;

    ApiClient ifMatch(String etag) {
        this.ifMatch = etag;
        return this;
    }

    ApiClient(URI base, String token, Duration timeout) {
        this.base = base;
        this.token = token;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    Answer get(String path) throws CliFailure {
        return send(request(path).GET().build());
    }

    /** A binary GET (an archive download). */
    byte[] getBytes(String path) throws CliFailure {
        HttpResponse<byte[]> resp;
        try {
            resp = http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.UNREACHABLE, "cannot talk to the controller at " + base + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(ExitCodes.FAILED, "interrupted");
        }
        if (resp.statusCode() / 100 == 2) return resp.body();
        throw failure(resp.statusCode(), new String(resp.body(), StandardCharsets.UTF_8));
    }

    Answer postJson(String path, Object body) throws CliFailure {
        return postJson(path, body, java.util.Map.of());
    }

    /** A JSON POST with extra request headers (If-Match). */
    Answer postJson(String path, Object body, java.util.Map<String, String> headers) throws CliFailure {
        String json;
        try {
            json = JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new CliFailure(ExitCodes.FAILED, "cannot encode the request: " + e.getOriginalMessage());
        }
        HttpRequest.Builder b = request(path).header("Content-Type", "application/json");
        headers.forEach(b::header);
        return send(b.POST(HttpRequest.BodyPublishers.ofByteArray(json.getBytes(StandardCharsets.UTF_8))).build());
    }

    /**
     * Every item of a paged list ({@code limit}/{@code after}/{@code next}), walked with the largest page,
     * as one answer {"NAME": [...]}. {@code path} may carry filters already.
     */
    com.fasterxml.jackson.databind.node.ObjectNode getAll(String path, String name) throws CliFailure {
        var all = JSON.createArrayNode();
        String sep = path.contains("?") ? "&" : "?";
        String after = null;
        while (true) {
            JsonNode page = get(path + sep + "limit=" + MAX_PAGE + (after == null ? ""
                    : "&after=" + java.net.URLEncoder.encode(after, StandardCharsets.UTF_8))).json();
            page.path(name).forEach(all::add);
            if (!page.hasNonNull("next")) break;
            after = page.get("next").asText();
        }
        var out = JSON.createObjectNode();
        out.set(name, all);
        return out;
    }

    /** The API's largest page (Paging.MAX). */
    static final int MAX_PAGE = 1000;

    Answer postRaw(String path, String contentType, byte[] body) throws CliFailure {
        return send(request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).header("Accept", "application/json");
        if (token != null && !token.isBlank()) b.header("Authorization", "Bearer " + token.trim());
        if (ifMatch != null && !ifMatch.isBlank()) b.header("If-Match", "\"" + ifMatch.strip().replace("\"", "") + "\"");
        return b;
    }

    private Answer send(HttpRequest req) throws CliFailure {
        HttpResponse<String> resp;
        try {
            resp = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpConnectTimeoutException e) {
            throw new CliFailure(ExitCodes.UNREACHABLE, "cannot reach the controller at " + base + ": connect timed out", e);
        } catch (HttpTimeoutException e) {
            throw new CliFailure(ExitCodes.UNREACHABLE, "the controller at " + base + " did not answer within " + timeout.toSeconds() + " s", e);
        } catch (ConnectException e) {
            throw new CliFailure(ExitCodes.UNREACHABLE, "cannot reach the controller at " + base + ": connection refused (is it running? check --url)", e);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.UNREACHABLE, "cannot talk to the controller at " + base + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(ExitCodes.FAILED, "interrupted");
        }
        String ct = resp.headers().firstValue("Content-Type").orElse("");
        if (resp.statusCode() / 100 == 2) return new Answer(resp.statusCode(), ct, resp.body(), resp.headers().firstValue("ETag").orElse(null));
        throw failure(resp.statusCode(), resp.body());
    }

    /** "403 FORBIDDEN: message" from the API's error body, or the raw status when the body is not one. */
    static CliFailure failure(int status, String body) {
        String code = null;
        String message = null;
        String extra = "";
        try {
            JsonNode n = JSON.readTree(body);
            if (n != null && n.hasNonNull("error")) {
                code = n.get("error").asText();
                message = n.path("message").asText("");
                if (n.hasNonNull("reason")) extra = " [reason " + n.get("reason").asText() + "]";
            }
        } catch (JsonProcessingException e) {
            // not an API error body (a proxy's HTML page, say): fall through to the raw status
        }
        String line = code != null ? status + " " + code + ": " + message + extra
                : "HTTP " + status + (body == null || body.isBlank() ? "" : ": " + body.strip().lines().findFirst().orElse(""));
        return new CliFailure(ExitCodes.forStatus(status), line);
    }
}
