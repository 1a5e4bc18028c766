package rsuota.agent.download;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import rsuota.agent.AgentError;

/**
 * Range requests for http:// on plain HTTP/1.1 over a socket ({@link Http11Connection}), blocking
 * on the calling thread: no selector thread, no futures, none of the JDK HttpClient's classes, ~5
 * MiB less RSS during an install (docs/benchmarks.md). A connection whose body was read to its end
 * is kept for the next range. Redirects (301, 302, 303, 307, 308; at most
 * {@link RangeCheck#MAX_REDIRECTS}) are followed; one to https:// is handed to the TLS transport.
 *
 * <p>Why not {@code HttpURLConnection}: its reads cannot be interrupted, and {@code disconnect()}
 * from another thread during a body may hand the socket to its keep-alive cleaner instead of
 * closing it; its read timeout is fixed per connection, so neither a low-speed window nor a header
 * deadline can be polled; and it silently resends a GET once when the head fails.
 */
final class Http11Transport implements RangeTransport {
    /** Idle connections kept: one fetch at a time per source, plus one across a redirect. */
    private static final int MAX_IDLE = 2;
    static final String USER_AGENT = "rsu-agent";

    private final HttpBundleSource.Options options;
    private final AtomicLong fetched;
    private final Supplier<RangeTransport> tlsFactory;
    private final long pollMillis;
    private final ArrayDeque<Http11Connection> idle = new ArrayDeque<>();
    private RangeTransport tls;
    private boolean closed;

    /** {@code tlsFactory}: the transport for an https:// redirect target, made on first use. */
    Http11Transport(HttpBundleSource.Options options, AtomicLong fetched, Supplier<RangeTransport> tlsFactory) {
        this.options = options;
        this.fetched = fetched;
        this.tlsFactory = tlsFactory;
        this.pollMillis = StallWatch.pollMillis(options.stallTimeout());
    }

    @Override
    public int get(URI uri, RangeCheck check, byte[] buf, int at) throws FetchException, InterruptedException {
        if (Thread.interrupted()) throw new InterruptedException("download interrupted");
        URI target = uri;
        // Bounded: at most MAX_REDIRECTS hops, then a 3xx is refused by RangeCheck.
        for (int hop = 0; ; hop++) {
            Exchange ex = exchange(target, check);
            Http11Connection c = ex.connection();
            Http11Connection.Head h = ex.head();
            boolean keep = false;
            try {
                Optional<String> location = h.first("Location");
                if (isRedirect(h.status()) && location.isPresent() && hop < RangeCheck.MAX_REDIRECTS) {
                    keep = h.bodyless() && h.keepAlive();
                    URI next = resolve(target, location.get());
                    if ("https".equalsIgnoreCase(next.getScheme())) return tls().get(next, check, buf, at);
                    if (!"http".equalsIgnoreCase(next.getScheme())) {
                        throw new FetchException(AgentError.BAD_RESPONSE, target + " redirects to '" + location.get() + "', not an http(s) URL");
                    }
                    target = next;
                    continue;
                }
                check.inspect(h.status(), h::first);
                // A refused answer's body is never read: the connection is closed instead.
                if (check.error() != null) throw check.error();
                StallWatch watch = new StallWatch(options.stallTimeout(), System.nanoTime());
                int got = c.readBody(h, buf, at, check.length, fetched, check.longBody(), watch::check);
                keep = c.reusable();
                return got;
            } catch (ClosedByInterruptException e) {
                throw interrupted();
            } catch (IOException e) {
                throw RangeCheck.lostInBody((int) c.bodyBytes(), e.getMessage());
            } finally {
                if (keep) release(c);
                else c.close();
            }
        }
    }

    private record Exchange(Http11Connection connection, Http11Connection.Head head) {}

    /** Sends the request and reads the response head, on a kept connection when there is one. */
    private Exchange exchange(URI target, RangeCheck check) throws FetchException, InterruptedException {
        String host = target.getHost();
        if (host == null) throw new FetchException(AgentError.CONNECT_FAILED, "no host in " + target);
        int port = target.getPort() == -1 ? 80 : target.getPort();
        byte[] request = request(target, host, port, check);
        Http11Connection c = takeIdle(Http11Connection.key(host, port));
        // Bounded: a kept connection that the server closed meanwhile is retried once on a new one.
        for (int attempt = 0; ; attempt++) {
            boolean reused = c != null;
            if (c == null) c = connect(target, host, port);
            try {
                c.send(request);
                long deadline = System.nanoTime() + options.headerTimeout().toNanos();
                Http11Connection.Head h = c.readHead((now, body) -> {
                    if (now - deadline > 0) {
                        throw new FetchException(AgentError.TIMEOUT, "no response headers within " + options.headerTimeout().toSeconds() + " s");
                    }
                });
                return new Exchange(c, h);
            } catch (ClosedByInterruptException e) {
                c.close();
                throw interrupted();
            } catch (FetchException e) {
                c.close();
                throw e;
            } catch (IOException e) {
                c.close();
                if (reused && !c.answered() && attempt == 0) {
                    c = null; // closed by the server while idle: an idempotent GET is sent again
                    continue;
                }
                throw new FetchException(AgentError.CONNECTION_LOST, "connection to " + target.getAuthority() + " lost: " + e.getMessage());
            }
        }
    }

    private Http11Connection connect(URI target, String host, int port) throws FetchException, InterruptedException {
        try {
            return Http11Connection.open(host, port, options.connectTimeout(), pollMillis);
        } catch (ClosedByInterruptException e) {
            throw interrupted();
        } catch (SocketTimeoutException e) {
            throw new FetchException(AgentError.CONNECT_TIMEOUT, "connect to " + target.getAuthority() + " timed out");
        } catch (ConnectException | NoRouteToHostException | UnknownHostException e) {
            throw new FetchException(AgentError.CONNECT_FAILED, "cannot connect to " + target.getAuthority() + ": " + e.getMessage());
        } catch (IOException e) {
            throw new FetchException(AgentError.CONNECT_FAILED, "cannot connect to " + target.getAuthority() + ": " + e);
        }
    }

    private static byte[] request(URI target, String host, int port, RangeCheck check) {
        String path = target.getRawPath() == null || target.getRawPath().isEmpty() ? "/" : target.getRawPath();
        if (target.getRawQuery() != null) path += "?" + target.getRawQuery();
        return ("GET " + path + " HTTP/1.1\r\n"
                + "Host: " + host + (port == 80 ? "" : ":" + port) + "\r\n"
                + "Range: bytes=" + check.offset + "-" + (check.offset + check.length - 1) + "\r\n"
                + "User-Agent: " + USER_AGENT + "\r\n"
                + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static URI resolve(URI base, String location) throws FetchException {
        try {
            return base.resolve(location.trim());
        } catch (IllegalArgumentException e) {
            throw new FetchException(AgentError.BAD_RESPONSE, base + " redirects to an unreadable Location '" + location + "'");
        }
    }

    private static InterruptedException interrupted() {
        Thread.interrupted(); // the channel is closed; the flag becomes the exception, as a blocking JDK wait does
        return new InterruptedException("download interrupted");
    }

    private synchronized RangeTransport tls() {
        if (tls == null) tls = tlsFactory.get();
        return tls;
    }

    private synchronized Http11Connection takeIdle(String key) {
        for (var it = idle.iterator(); it.hasNext(); ) {
            Http11Connection c = it.next();
            if (c.key.equals(key)) {
                it.remove();
                return c;
            }
        }
        return null;
    }

    private synchronized void release(Http11Connection c) {
        if (closed) {
            c.close();
            return;
        }
        idle.addFirst(c);
        if (idle.size() > MAX_IDLE) idle.removeLast().close();
    }

    /** Connections kept alive now (for tests). */
    synchronized int idleConnections() {
        return idle.size();
    }

    @Override
    public synchronized void close() {
        closed = true;
        while (!idle.isEmpty()) idle.removeFirst().close();
        if (tls != null) tls.close();
    }
}
