package rsuota.fleet.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.fleet.auth.Tokens;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;

/**
 * Runs the route table: match, authenticate, check the role, read the body, call the endpoint,
 * write the reply. Authentication and the role check come before the body is even read, so a
 * refused caller changes nothing. Every failure leaves as {"error": CODE, "message": ...} plus the
 * error's details, with the status from {@link ErrorStatus}.
 */
final class ApiHandler extends Handler.Abstract {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);

    private final List<Route> routes;
    private final Tokens tokens;
    private final HttpCounters counters;
    private final rsuota.fleet.auth.FailedAuthLimiter limiter;

    ApiHandler(List<Route> routes, Tokens tokens, HttpCounters counters, rsuota.fleet.auth.FailedAuthLimiter limiter) {
        this.routes = List.copyOf(routes);
        this.tokens = tokens;
        this.counters = counters;
        this.limiter = limiter;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        Reply reply;
        try {
            reply = dispatch(request, path, method);
        } catch (FleetException e) {
            if (e.code() == ErrorCode.STORE_FAILURE || e.code() == ErrorCode.INTERNAL) log.error("{} {}: {}", method, path, e.getMessage(), e);
            reply = error(e);
        } catch (RuntimeException e) {
            // The request boundary: a bug must not take the server down, and the caller gets a 500.
            log.error("{} {} failed", method, path, e);
            reply = error(new FleetException(ErrorCode.INTERNAL, "internal error (" + e.getClass().getSimpleName()
                    + "); the controller log has the details"));
        }
        counters.count(reply.status());
        if (reply.status() == 401) response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"rsu-ota\"");
        if (reply.status() == 429 && reply instanceof Reply.Json j && j.body() instanceof Map<?, ?> m && m.get("retryAfter") != null) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, String.valueOf(m.get("retryAfter")));
        }
        write(response, reply, callback);
        return true;
    }

    private Reply dispatch(Request request, String path, String method) throws FleetException {
        Route route = null;
        Map<String, String> params = null;
        boolean pathKnown = false;
        for (Route r : routes) {
            Optional<Map<String, String>> m = r.match(path);
            if (m.isEmpty()) continue;
            pathKnown = true;
            if (r.method().equals(method)) {
                route = r;
                params = m.get();
                break;
            }
        }
        if (route == null) {
            throw pathKnown ? new FleetException(ErrorCode.METHOD_NOT_ALLOWED, method + " is not supported on " + path)
                    : new FleetException(ErrorCode.NOT_FOUND, "no such endpoint: " + method + " " + path);
        }
        Principal principal = null;
        if (route.role() != null) {
            principal = authenticate(request);
            principal.require(route.role(), method + " " + route.pattern());
        }
        byte[] body = readBody(request, route.maxBody());
        Map<String, String> headers = new HashMap<>();
        for (HttpField f : request.getHeaders()) headers.putIfAbsent(f.getLowerCaseName(), f.getValue());
        return route.endpoint().handle(new Call(principal, params, query(request), request.getHeaders().get(HttpHeader.CONTENT_TYPE), body, headers));
    }

    /**
     * The caller's principal, or UNAUTHENTICATED. An address with too many recent failures is refused
     * first (429, whatever it presents); each failure is counted and logged with the address and the
     * reason, never the presented secret.
     */
    private Principal authenticate(Request request) throws FleetException {
        String address = Request.getRemoteAddr(request);
        java.time.Duration wait = limiter.blockedFor(address);
        if (!wait.isZero()) {
            long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
            throw new FleetException(ErrorCode.TOO_MANY_FAILED_AUTHENTICATIONS, "too many failed authentications from " + address
                    + " in the last minute: try again in " + seconds + " s", Map.of("retryAfter", seconds));
        }
        try {
            return bearer(request);
        } catch (FleetException e) {
            if (e.code() == ErrorCode.UNAUTHENTICATED) {
                limiter.failed(address);
                log.warn("failed authentication from {}: {}", address, e.getMessage());
            }
            throw e;
        }
    }

    private Principal bearer(Request request) throws FleetException {
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (auth == null || auth.isBlank()) {
            throw new FleetException(ErrorCode.UNAUTHENTICATED, "no bearer token: send 'Authorization: Bearer TOKEN' (fleetctl --token)");
        }
        if (!auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new FleetException(ErrorCode.UNAUTHENTICATED, "the Authorization header is not a bearer token");
        }
        return tokens.authenticate(auth.substring(7).trim())
                .orElseThrow(() -> new FleetException(ErrorCode.UNAUTHENTICATED, "the bearer token is not recognised (revoked, mistyped, or for another controller)"));
    }

    private static byte[] readBody(Request request, int max) throws FleetException {
        if (max == 0) return new byte[0];
        long declared = request.getLength();
        if (declared > max) throw tooLarge(declared, max);
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) throw tooLarge(b.length, max);
            return b;
        } catch (IOException e) {
            throw new FleetException(ErrorCode.INVALID_REQUEST, "the request body could not be read: " + e.getMessage());
        }
    }

    private static FleetException tooLarge(long got, int max) {
        return new FleetException(ErrorCode.PAYLOAD_TOO_LARGE, "request body of " + got + " bytes exceeds this endpoint's limit of " + max);
    }

    private static Map<String, String> query(Request request) {
        Fields fields = Request.extractQueryParameters(request);
        Map<String, String> out = new HashMap<>();
        for (Fields.Field f : fields) out.put(f.getName(), f.getValue());
        return out;
    }

    static Reply error(FleetException e) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", e.code().name());
        body.put("message", e.getMessage());
        e.details().forEach(body::putIfAbsent);
        return new Reply.Json(ErrorStatus.of(e.code()), body);
    }

    static void write(Response response, Reply reply, Callback callback) {
        String contentType;
        byte[] bytes;
        int status = reply.status();
        if (reply instanceof Reply.Head h) {
            response.setStatus(status);
            h.headers().forEach((k, v) -> response.getHeaders().put(k, v));
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0);
            response.write(true, ByteBuffer.allocate(0), callback);
            return;
        }
        if (reply instanceof Reply.File f) {
            writeFile(response, f, callback);
            return;
        }
        if (reply instanceof Reply.Json j) {
            j.headers().forEach((k, v) -> response.getHeaders().put(k, v));
            contentType = "application/json";
            j.headers().forEach((k, v) -> response.getHeaders().put(k, v));
            try {
                bytes = ApiJson.MAPPER.writeValueAsBytes(j.body());
            } catch (JsonProcessingException e) {
                log.error("cannot serialise a reply", e);
                status = 500;
                bytes = "{\"error\":\"INTERNAL\",\"message\":\"the reply could not be serialised\"}".getBytes(StandardCharsets.UTF_8);
            }
        } else {
            Reply.Text t = (Reply.Text) reply;
            contentType = t.contentType();
            bytes = t.body().getBytes(StandardCharsets.UTF_8);
        }
        response.setStatus(status);
        response.getHeaders().put(new HttpField(HttpHeader.CONTENT_TYPE, contentType));
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    /** Streams a file in 64 KiB writes (an archive may be large; it never sits in memory whole). */
    private static void writeFile(Response response, Reply.File f, Callback callback) {
        java.nio.channels.FileChannel ch;
        long size;
        try {
            ch = java.nio.channels.FileChannel.open(f.file(), java.nio.file.StandardOpenOption.READ);
            size = ch.size();
        } catch (IOException e) {
            write(response, error(new FleetException(ErrorCode.STORE_FAILURE, "cannot read " + f.file().getFileName() + ": " + e.getMessage())), callback);
            return;
        }
        response.setStatus(f.status());
        response.getHeaders().put(new HttpField(HttpHeader.CONTENT_TYPE, f.contentType()));
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, size);
        response.getHeaders().put("Content-Disposition", "attachment; filename=\"" + f.filename() + "\"");
        try (ch; java.io.OutputStream out = Content.Sink.asOutputStream(response)) {
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            while (ch.read(buf) > 0) {
                buf.flip();
                out.write(buf.array(), 0, buf.limit());
                buf.clear();
            }
            out.flush();
            callback.succeeded();
        } catch (IOException e) {
            callback.failed(e);
        }
    }
}
