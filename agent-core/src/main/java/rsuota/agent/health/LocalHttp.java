package rsuota.agent.health;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/**
 * One shared HTTP client for probes and the KPI endpoint: a client per request would start a
 * selector thread each time, which adds up over a commit window on a 64 MiB agent.
 */
final class LocalHttp {

    /** A health or metrics response larger than this is not what the application should serve. */
    static final int MAX_BODY = 4 * 1024 * 1024;

    private static final HttpClient CLIENT = HttpClient.newBuilder()
            // Probes target the local application: an environment proxy must never be in between.
            .proxy(HttpClient.Builder.NO_PROXY)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    private LocalHttp() {}

    record Response(int status, byte[] body) {}

    /**
     * GET with an overall timeout; reads at most {@link #MAX_BODY} bytes when {@code readBody}.
     * Fails with an {@link IOException} that says what happened in words (refused, timed out).
     */
    static Response get(URI url, Duration timeout, String accept, boolean readBody) throws IOException {
        HttpRequest.Builder req = HttpRequest.newBuilder(url).timeout(timeout).GET();
        if (accept != null) req.header("Accept", accept);
        HttpResponse<InputStream> r;
        try {
            r = CLIENT.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException e) {
            throw new IOException("GET " + url + " timed out after " + timeout.toMillis() + " ms", e);
        } catch (ConnectException e) {
            throw new IOException("GET " + url + ": connection refused or unreachable", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("GET " + url + " interrupted");
        } catch (IOException e) {
            throw new IOException("GET " + url + ": " + e, e);
        }
        try (InputStream in = r.body()) {
            if (!readBody) return new Response(r.statusCode(), new byte[0]);
            byte[] body = in.readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) throw new IOException("GET " + url + ": response is larger than " + MAX_BODY + " bytes");
            return new Response(r.statusCode(), body);
        }
    }
}
