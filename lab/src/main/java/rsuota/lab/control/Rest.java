package rsuota.lab.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The controller's REST API as the lab's operators use it: one bearer token per caller, so the
 * audit trail shows who did what (release manager, operator). A non-2xx answer is a
 * {@link RestException} with the controller's error code and message.
 */
public final class Rest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Loopback and an in-process controller: ten seconds means it is stuck, not slow. */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** A refused or failed call: HTTP status, the controller's error code, its message. */
    public static final class RestException extends IOException {
        private final int status;
        private final String code;

        RestException(String call, int status, String code, String message) {
            super(call + ": HTTP " + status + (code == null ? "" : " " + code) + ": " + message);
            this.status = status;
            this.code = code;
        }

        public int status() {
            return status;
        }

        public String code() {
            return code;
        }
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    private final URI base;
    private final String token;

    public Rest(URI base, String token) {
        this.base = base;
        this.token = token;
    }

    public Rest as(String otherToken) {
        return new Rest(base, otherToken);
    }

    public static ObjectNode object() {
        return JSON.createObjectNode();
    }

    public JsonNode get(String path) throws IOException {
        return send("GET " + path, HttpRequest.newBuilder(base.resolve(path)).GET());
    }

    public JsonNode post(String path, JsonNode body) throws IOException {
        return send("POST " + path, HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body), StandardCharsets.UTF_8)));
    }

    public JsonNode post(String path, String contentType, String body) throws IOException {
        return send("POST " + path, HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
    }

    private JsonNode send(String call, HttpRequest.Builder b) throws IOException {
        HttpRequest req = b.header("Authorization", "Bearer " + token).timeout(TIMEOUT).build();
        HttpResponse<byte[]> resp;
        try {
            resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(call + ": interrupted", e);
        }
        JsonNode body = resp.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(resp.body());
        if (resp.statusCode() / 100 != 2) {
            throw new RestException(call, resp.statusCode(), body.path("error").asText(null), body.path("message").asText(new String(resp.body(),
                    StandardCharsets.UTF_8)));
        }
        return body;
    }
}
