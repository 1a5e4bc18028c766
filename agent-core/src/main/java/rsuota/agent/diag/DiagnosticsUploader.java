package rsuota.agent.diag;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;

/**
 * Uploads a file by HTTP PUT in chunks that the server can resume (JDK {@link HttpClient}).
 *
 * <h2>What the server must support</h2>
 * <ul>
 *   <li>{@code HEAD URL}: {@code 404} when nothing was received yet, else {@code 200} with header
 *       {@value #OFFSET_HEADER}{@code : N}, the number of bytes received so far (contiguous from 0);
 *       {@value #RECEIVED_LENGTH_HEADER}{@code : N} (the fleet controller) or {@code Range: bytes=0-(N-1)}
 *       are understood too. A server keeps whatever part of an interrupted PUT body it received.</li>
 *   <li>{@code PUT URL} with {@code Content-Range: bytes A-B/TOTAL} and bytes A..B as body:
 *       accepted only when A equals its current offset; answers {@code 308} (more expected) or
 *       {@code 200/201/204} (complete), optionally with {@value #OFFSET_HEADER}; {@code 416}
 *       when A is not its offset (the client then asks again with HEAD).</li>
 *   <li>Every request carries {@value #SHA_HEADER}: the SHA-256 of the whole file. A server that
 *       holds a partial upload of a different file answers {@code 409} (the client gives up: one
 *       URL per bundle), and may verify the complete upload against it.</li>
 * </ul>
 * Interruptions (connection cut, 5xx, 429) are retried after asking the server where it is;
 * {@link Options#maxAttempts} failures in a row without progress end the upload with
 * UPLOAD_FAILED (transient: calling {@link #upload} again resumes where the server is).
 */
public final class DiagnosticsUploader {

    private static final Logger LOG = LoggerFactory.getLogger(DiagnosticsUploader.class);

    public static final String OFFSET_HEADER = "Upload-Offset";
    /** Accepted instead of {@value #OFFSET_HEADER}: what the fleet controller's upload endpoint sends. */
    public static final String RECEIVED_LENGTH_HEADER = "X-Received-Length";
    public static final String SHA_HEADER = "X-Upload-Sha256";

    /**
     * @param chunkBytes     bytes per PUT: what one interruption can cost
     * @param maxAttempts    failures in a row without progress before giving up
     * @param requestTimeout per request
     * @param retryDelay     pause after a failure
     */
    public record Options(int chunkBytes, int maxAttempts, Duration requestTimeout, Duration retryDelay) {
        /** 256 KiB chunks: about a second on a poor cellular uplink, so a cut costs little. */
        public static final Options DEFAULT = new Options(256 * 1024, 8, Duration.ofSeconds(60), Duration.ofSeconds(2));

        public Options {
            if (chunkBytes < 1 || maxAttempts < 1) throw new IllegalArgumentException("chunkBytes and maxAttempts must be >= 1");
        }
    }

    /** @param requests HTTP requests made; @param resumes times the offset was asked again after a failure */
    public record Result(long bytes, String sha256, int requests, int resumes) {}

    private final java.util.function.Supplier<HttpClient> client;
    private HttpClient http;
    private final Options options;

    public DiagnosticsUploader(HttpClient http, Options options) {
        this(() -> http, options);
    }

    /**
     * The client is made at the first upload: an HTTP client initialises the JDK's TLS stack and
     * starts a selector thread, which a daemon that may never upload should not pay for at startup
     * (~0.3 s and ~4 MiB; docs/benchmarks.md, Footprint).
     */
    public DiagnosticsUploader(java.util.function.Supplier<HttpClient> client, Options options) {
        this.client = client;
        this.options = options;
    }

    private synchronized HttpClient http() {
        if (http == null) http = client.get();
        return http;
    }

    /** An HTTP/1.1 client without redirects (an upload URL that redirects is refused, not followed). */
    public static HttpClient defaultClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(15)).build();
    }

    public Result upload(URI url, Path file) throws AgentException {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new AgentException(AgentError.BAD_URL, "upload URL must be http(s): " + url);
        }
        long total;
        String sha;
        try {
            total = Files.size(file);
            sha = sha256(file);
        } catch (IOException e) {
            throw new AgentException(AgentError.COLLECT_FAILED, "reading " + file + ": " + e.getMessage(), e);
        }
        int requests = 0;
        int resumes = 0;
        int failures = 0;
        // Bounds the loop even against a server that keeps moving its offset back.
        long maxRequests = (total / options.chunkBytes() + 1) * 4 + options.maxAttempts() * 2L;
        long offset;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            requests++;
            offset = serverOffset(url, sha, total);
            boolean complete = false;
            while (!complete) {
                if (requests >= maxRequests) {
                    throw new AgentException(AgentError.UPLOAD_FAILED,
                            requests + " requests without finishing " + total + " bytes (server at " + offset + ")");
                }
                long end = Math.min(total, offset + options.chunkBytes());
                byte[] chunk = read(ch, offset, (int) (end - offset));
                String range = total == 0 ? "bytes */0" : "bytes " + offset + "-" + (end - 1) + "/" + total;
                HttpRequest put = HttpRequest.newBuilder(url).timeout(options.requestTimeout())
                        .header("Content-Range", range).header(SHA_HEADER, sha).header("Content-Type", "application/gzip")
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(chunk)).build();
                requests++;
                int status;
                Optional<String> reported;
                try {
                    HttpResponse<Void> r = http().send(put, HttpResponse.BodyHandlers.discarding());
                    status = r.statusCode();
                    reported = offsetHeader(r.headers());
                } catch (IOException e) {
                    // Cut mid-body: the server may have kept part of it; ask it where it is.
                    failures = failed(failures, "PUT " + range + ": " + e);
                    resumes++;
                    requests++;
                    long before = offset;
                    offset = serverOffset(url, sha, total);
                    if (offset > before) failures = 0;
                    continue;
                }
                if (status == 308 || (status >= 200 && status < 300)) {
                    long next = reported.isPresent() ? parseOffset(reported.get(), total) : end;
                    if (next > offset) failures = 0;
                    offset = next;
                    complete = status != 308 && offset >= total;
                    if (status == 308 && offset >= total) {
                        // The server has every byte but did not say so: ask once more.
                        requests++;
                        offset = serverOffset(url, sha, total);
                        complete = offset >= total;
                    }
                } else if (status == 416) {
                    failures = failed(failures, "server is not at offset " + offset);
                    resumes++;
                    requests++;
                    offset = serverOffset(url, sha, total);
                } else if (status == 429 || status >= 500) {
                    failures = failed(failures, "PUT " + range + ": HTTP " + status);
                    resumes++;
                    requests++;
                    long before = offset;
                    offset = serverOffset(url, sha, total);
                    if (offset > before) failures = 0;
                } else {
                    throw new AgentException(AgentError.UPLOAD_REJECTED, "PUT " + url.getHost() + ": HTTP " + status);
                }
            }
        } catch (IOException e) {
            throw new AgentException(AgentError.COLLECT_FAILED, "reading " + file + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(AgentError.INTERRUPTED, "upload interrupted");
        }
        LOG.info("diagnostics: uploaded {} bytes to {} in {} requests ({} resumes)", total, url.getHost(), requests, resumes);
        return new Result(total, sha, requests, resumes);
    }

    private int failed(int failures, String why) throws AgentException, InterruptedException {
        int n = failures + 1;
        if (n >= options.maxAttempts()) {
            throw new AgentException(AgentError.UPLOAD_FAILED, n + " failures in a row, last: " + why);
        }
        LOG.warn("diagnostics: upload interrupted ({}), resuming ({}/{})", why, n, options.maxAttempts());
        if (!options.retryDelay().isZero()) Thread.sleep(options.retryDelay().toMillis());
        return n;
    }

    /** HEAD: the server's offset; retried like a PUT when the network fails. */
    private long serverOffset(URI url, String sha, long total) throws AgentException, InterruptedException {
        int failures = 0;
        // Bounded: every pass returns, throws, or counts a failure, and failed() throws at maxAttempts.
        while (true) {
            HttpRequest head = HttpRequest.newBuilder(url).timeout(options.requestTimeout()).header(SHA_HEADER, sha)
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build();
            int status;
            Optional<String> reported;
            try {
                HttpResponse<Void> r = http().send(head, HttpResponse.BodyHandlers.discarding());
                status = r.statusCode();
                reported = offsetHeader(r.headers());
            } catch (IOException e) {
                failures = failed(failures, "HEAD: " + e);
                continue;
            }
            if (status == 404) return 0;
            if (status == 200 && reported.isPresent()) return parseOffset(reported.get(), total);
            if (status == 429 || status >= 500) {
                failures = failed(failures, "HEAD: HTTP " + status);
                continue;
            }
            throw new AgentException(AgentError.UPLOAD_REJECTED,
                    "HEAD " + url.getHost() + ": HTTP " + status + (status == 200 ? " without " + OFFSET_HEADER : ""));
        }
    }

    /**
     * The server's received length: {@value #OFFSET_HEADER}, else {@value #RECEIVED_LENGTH_HEADER},
     * else a resumable-upload style {@code Range: bytes=0-LAST} (LAST + 1).
     */
    private static Optional<String> offsetHeader(java.net.http.HttpHeaders h) {
        Optional<String> v = h.firstValue(OFFSET_HEADER).or(() -> h.firstValue(RECEIVED_LENGTH_HEADER));
        if (v.isPresent()) return v;
        return h.firstValue("Range").map(String::trim).filter(r -> r.matches("bytes=0-\\d{1,18}"))
                .map(r -> Long.toString(Long.parseLong(r.substring("bytes=0-".length())) + 1));
    }

    private static long parseOffset(String value, long total) throws AgentException {
        long n;
        try {
            n = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new AgentException(AgentError.SERVER_OFFSET_INVALID, OFFSET_HEADER + " '" + value + "' is not a number");
        }
        if (n < 0 || n > total) {
            throw new AgentException(AgentError.SERVER_OFFSET_INVALID, OFFSET_HEADER + " " + n + " outside 0.." + total);
        }
        return n;
    }

    private static byte[] read(FileChannel ch, long offset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        long pos = offset;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new IOException("file shrank during upload at " + pos);
            pos += n;
        }
        return buf.array();
    }

    private static String sha256(Path file) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(file)) {
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
