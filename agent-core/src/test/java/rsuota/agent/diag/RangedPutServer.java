package rsuota.agent.diag;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tiny upload server on 127.0.0.1 speaking the protocol of {@link DiagnosticsUploader}: HEAD
 * reports the received length, PUT with Content-Range appends at that offset. It keeps every byte
 * it received, also of a PUT it cuts, and can cut the connection once the body bytes received
 * (over all PUTs) reach given thresholds.
 */
final class RangedPutServer implements AutoCloseable {

    private static final Pattern RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)");

    private static final class Upload {
        final ByteArrayOutputStream data = new ByteArrayOutputStream();
        String sha;
        long total = -1;
    }

    private final HttpServer server;
    private final Map<String, Upload> uploads = new ConcurrentHashMap<>();
    private final Deque<Long> cuts = new ArrayDeque<>();
    private final AtomicLong bodyBytes = new AtomicLong();
    private final AtomicInteger puts = new AtomicInteger();
    private final AtomicInteger heads = new AtomicInteger();
    private final AtomicInteger cutsDone = new AtomicInteger();

    /** Answers like the fleet controller's endpoint: X-Received-Length on HEAD (200 even when empty), plain 200 on PUT. */
    private final boolean controllerStyle;

    RangedPutServer() throws IOException {
        this(false);
    }

    RangedPutServer(boolean controllerStyle) throws IOException {
        this.controllerStyle = controllerStyle;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "ranged-put-server");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    /** Cut the connection when the body bytes received over all PUTs reach each of these. */
    synchronized void cutAt(long... thresholds) {
        for (long t : thresholds) cuts.add(t);
    }

    synchronized byte[] content(String path) {
        Upload u = uploads.get(path);
        return u == null ? new byte[0] : u.data.toByteArray();
    }

    long bodyBytesReceived() {
        return bodyBytes.get();
    }

    int puts() {
        return puts.get();
    }

    int heads() {
        return heads.get();
    }

    int cutsDone() {
        return cutsDone.get();
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String sha = ex.getRequestHeaders().getFirst(DiagnosticsUploader.SHA_HEADER);
        switch (ex.getRequestMethod()) {
            case "HEAD" -> head(ex, path, sha);
            case "PUT" -> put(ex, path, sha);
            default -> reply(ex, 405, -1);
        }
    }

    private void head(HttpExchange ex, String path, String sha) throws IOException {
        heads.incrementAndGet();
        Upload u;
        synchronized (this) {
            u = uploads.get(path);
        }
        if (controllerStyle) {
            ex.getResponseHeaders().set(DiagnosticsUploader.RECEIVED_LENGTH_HEADER, Long.toString(u == null ? 0 : u.data.size()));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        } else if (u == null) {
            reply(ex, 404, -1);
        } else if (u.sha != null && sha != null && !u.sha.equals(sha)) {
            reply(ex, 409, -1);
        } else {
            reply(ex, 200, u.data.size());
        }
    }

    private void put(HttpExchange ex, String path, String sha) throws IOException {
        puts.incrementAndGet();
        Matcher m = RANGE.matcher(String.valueOf(ex.getRequestHeaders().getFirst("Content-Range")));
        if (!m.matches()) {
            reply(ex, 400, -1);
            return;
        }
        long from = Long.parseLong(m.group(1));
        long total = Long.parseLong(m.group(3));
        Upload u;
        synchronized (this) {
            u = uploads.computeIfAbsent(path, p -> new Upload());
            if (u.sha == null) u.sha = sha;
            if (u.total < 0) u.total = total;
        }
        if (sha != null && !sha.equals(u.sha)) {
            reply(ex, 409, -1);
            return;
        }
        if (from != u.data.size()) {
            reply(ex, 416, u.data.size());
            return;
        }
        byte[] buf = new byte[8192];
        try (InputStream in = ex.getRequestBody()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                int keep = n;
                boolean cut = false;
                synchronized (this) {
                    Long next = cuts.peekFirst();
                    long before = bodyBytes.get();
                    if (next != null && before + n >= next) {
                        keep = (int) (next - before);
                        cuts.pollFirst();
                        cut = true;
                    }
                    u.data.write(buf, 0, keep);
                    bodyBytes.addAndGet(keep);
                }
                if (cut) {
                    cutsDone.incrementAndGet();
                    // Thrown out of the handler, the JDK server closes the connection without a response.
                    throw new UncheckedIOException(new IOException("cut by the test after " + bodyBytes.get() + " body bytes"));
                }
            }
        }
        long size = u.data.size();
        if (controllerStyle) {
            byte[] body = ("{\"received\":" + size + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
            return;
        }
        reply(ex, size >= u.total ? 201 : 308, size);
    }

    private static void reply(HttpExchange ex, int status, long offset) throws IOException {
        if (offset >= 0) ex.getResponseHeaders().set(DiagnosticsUploader.OFFSET_HEADER, Long.toString(offset));
        ex.sendResponseHeaders(status, -1);
        ex.close();
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
