package rsuota.fleet.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A loopback HTTP proxy in front of a test controller that holds every exchange passing through it
 * to openapi.yaml ({@link ContractCheck}), for clients the tests do not drive through
 * {@link RunningController#send}: fleetctl. A mismatch answers 599 with the validator's messages,
 * which fleetctl reports as a server error, so the fleetctl test that made the call fails.
 */
public final class ContractProxy implements AutoCloseable {
    /** Not a status any server sends: unmistakably the contract check's. */
    static final int CONTRACT_BROKEN = 599;
    /** Hop-by-hop and computed headers the JDK client refuses to set or sets itself. */
    private static final Set<String> RESTRICTED = Set.of("host", "connection", "content-length", "expect", "upgrade", "transfer-encoding", "keep-alive");

    private final HttpServer server;
    private final URI target;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    public ContractProxy(URI target) throws IOException {
        this.target = target;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", this::forward);
        server.start();
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private void forward(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            String method = ex.getRequestMethod();
            URI relative = ex.getRequestURI();
            HttpRequest.Builder b = HttpRequest.newBuilder(target.resolve(relative.getRawPath() + (relative.getRawQuery() == null ? "" : "?" + relative.getRawQuery())));
            Map<String, List<String>> sent = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            ex.getRequestHeaders().forEach((k, v) -> {
                if (RESTRICTED.contains(k.toLowerCase(java.util.Locale.ROOT))) return;
                sent.put(k, v);
                v.forEach(value -> b.header(k, value));
            });
            b.method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            HttpResponse<byte[]> resp;
            try {
                resp = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            byte[] out = resp.body();
            int status = resp.statusCode();
            try {
                ContractCheck.check(method, relative, sent, body.length == 0 ? null : new String(body, StandardCharsets.UTF_8), status,
                        resp.headers().map(), new String(out, StandardCharsets.UTF_8));
                resp.headers().map().forEach((k, v) -> {
                    if (!RESTRICTED.contains(k.toLowerCase(java.util.Locale.ROOT)) && !k.startsWith(":")) ex.getResponseHeaders().put(k, v);
                });
            } catch (AssertionError e) {
                status = CONTRACT_BROKEN;
                // fleetctl shows a non-API error body's first line: put the whole reason on it.
                out = e.getMessage().replace("\n", " | ").getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().put("Content-Type", List.of("text/plain; charset=utf-8"));
            }
            boolean empty = method.equals("HEAD") || out.length == 0;
            ex.sendResponseHeaders(status, empty ? -1 : out.length);
            if (!empty) {
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(out);
                }
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
