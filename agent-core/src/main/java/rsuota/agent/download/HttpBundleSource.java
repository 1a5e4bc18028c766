package rsuota.agent.download;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import rsuota.agent.AgentError;

/**
 * Range requests on the JDK {@link HttpClient} (HTTP/1.1 and HTTP/2, TLS).
 *
 * <p>Every response is checked before its bytes count: status 206, a Content-Range naming exactly
 * the requested bytes of a bundle of the expected total size, the same ETag as when the download
 * started, and exactly as many body bytes as the range. A body that stops arriving for
 * {@link Options#stallTimeout} is abandoned (the JDK's request timeout only covers the headers).
 */
public final class HttpBundleSource implements BundleSource {

    /**
     * @param connectTimeout TCP/TLS connect
     * @param headerTimeout  until response headers arrive
     * @param stallTimeout   window of the low-speed check: a body that delivers less than
     *                       {@link #MIN_BYTES_PER_SECOND} over this long is abandoned (like curl's
     *                       --speed-limit/--speed-time; a slow drip must not hold a download forever)
     * @param sslContext     TLS trust (null = JDK default trust store)
     * @param bandwidth      the cap on body bytes read, by time of day ({@link Throttle}); unlimited: no throttle
     * @param clock          the throttle's time (the schedule's hours and the token bucket)
     */
    public record Options(Duration connectTimeout, Duration headerTimeout, Duration stallTimeout, javax.net.ssl.SSLContext sslContext,
                          BandwidthSchedule bandwidth, java.time.Clock clock) {
        /** 1 KiB/s: slower than the worst cellular link that still makes progress worth keeping. */
        public static final long MIN_BYTES_PER_SECOND = 1024;

        /** Without a bandwidth cap. */
        public Options(Duration connectTimeout, Duration headerTimeout, Duration stallTimeout, javax.net.ssl.SSLContext sslContext) {
            this(connectTimeout, headerTimeout, stallTimeout, sslContext, BandwidthSchedule.unlimited(), java.time.Clock.systemUTC());
        }

        public static Options defaults() {
            return new Options(Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofSeconds(30), null);
        }

        /** The same, capped by {@code schedule} (a rollout's own cap replaces the unit's). */
        public Options withBandwidth(BandwidthSchedule schedule) {
            return new Options(connectTimeout, headerTimeout, stallTimeout, sslContext, schedule, clock);
        }
    }

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)");

    static {
        // The client's default 16 KiB body buffers cost ~30 % of download throughput here
        // (docs/benchmarks.md); 64 KiB halves the per-buffer work. Read once when the client class
        // loads, so it is set before the first client exists; an explicit -D wins.
        if (System.getProperty("jdk.httpclient.bufsize") == null) {
            System.setProperty("jdk.httpclient.bufsize", Integer.toString(64 * 1024));
        }
    }

    private final URI uri;
    private final Options options;
    private final HttpClient client;
    private final AtomicLong fetched = new AtomicLong();
    /** Null when uncapped; one bucket for the whole source, so a debt carries over from one range request to the next. */
    private final Throttle throttle;

    public HttpBundleSource(URI uri, Options options) {
        this.uri = uri;
        this.options = options;
        boolean capped = options.bandwidth() != null
                && (!options.bandwidth().otherwise().isUnlimited() || !options.bandwidth().rules().isEmpty());
        this.throttle = capped ? new Throttle(options.bandwidth(), options.clock()) : null;
        HttpClient.Builder b = HttpClient.newBuilder()
                .connectTimeout(options.connectTimeout())
                // NORMAL follows up to 5 redirects (jdk.httpclient.redirects.retrylimit); a loop ends as a 3xx below.
                .followRedirects(HttpClient.Redirect.NORMAL)
                // Body callbacks run on the client's selector thread instead of being handed to a
                // pool thread per 64 KiB buffer: half the CPU per byte and ~2x the throughput here
                // (docs/benchmarks.md). Safe because every callback of ours only copies or checks
                // headers; nothing blocks on that thread.
                .executor(Runnable::run);
        if (options.sslContext() != null) b.sslContext(options.sslContext());
        // Built on a thread that took the download policy: the client's selector thread inherits it.
        this.client = DownloadThreads.buildWithPolicy(b::build);
    }

    @Override
    public long bytesFetched() {
        return fetched.get();
    }

    @Override
    public String describe() {
        return uri.toString();
    }

    @Override
    public Fetched fetch(long offset, int length, Identity expected, byte[] into) throws FetchException, InterruptedException {
        if (throttle != null) return fetchCapped(offset, length, expected, into);
        return fetchRange(offset, length, expected, into, 0);
    }

    /**
     * Bandwidth cap hook ({@link Throttle}). The range is fetched as consecutive pieces of at most
     * {@link #piece} bytes, each paid for in the token bucket before it is asked for: what the
     * server may send is bounded by what was asked, so the cap holds on the link itself, whatever
     * the kernel's receive buffer or an HTTP/2 window would let through. A failed piece fails the
     * fetch like an uncapped one (the caller retries the range; bytes already paid stay paid).
     */
    private Fetched fetchCapped(long offset, int length, Identity expected, byte[] into) throws FetchException, InterruptedException {
        byte[] buf = into != null && into.length >= length ? into : new byte[length];
        int done = 0;
        Identity id = expected;
        // Bounded: every piece moves at least one byte forward or ends the loop.
        while (done < length) {
            int n = (int) Math.min(piece(), length - done);
            long wait = throttle.take(n);
            // A wait is cut at the next schedule change; ask again until the piece is paid. Bounded by MAX_WAITS.
            for (int i = 0; wait > 0 && i < MAX_WAITS; i++) {
                TimeUnit.NANOSECONDS.sleep(wait);
                wait = throttle.take(0);
            }
            // The schedule opened an unlimited stretch while this piece waited: take the rest at once.
            if (throttle.cap().isUnlimited()) n = (int) Math.min(MAX_PIECE, length - done);
            Fetched f = fetchRange(offset + done, n, id, buf, done);
            id = f.identity();
            done += f.length();
            if (f.length() < n) break; // the bundle ends here
        }
        return new Fetched(buf, done, id);
    }

    /** Bytes asked for at once under a cap: {@link #PIECE_TIME} of it, at least {@link #MIN_PIECE}. */
    private long piece() {
        long cap = throttle.cap().bytesPerSecond();
        return cap == 0 ? MAX_PIECE : Math.min(MAX_PIECE, Math.max(MIN_PIECE, cap * PIECE_TIME.toMillis() / 1000));
    }

    /** A piece lasts this long at the cap: short enough that the link sees the cap at this grain. */
    static final Duration PIECE_TIME = Duration.ofMillis(100);

    /**
     * Smallest piece under a cap. Each piece arrives at line rate, so at low caps the piece is what a 1-second window
     * sees above the cap: 16 KiB is one second at the lowest cap (16 KiB/s), where 64 KiB came as a 4x burst every
     * 4 s. The price is ~400 header bytes per piece: under 2.5 % of the bytes, under 1 % from 40 KiB/s up.
     */
    static final int MIN_PIECE = 16 * 1024;
    /** Largest piece (and the piece while the schedule is unlimited): 4 MiB, a chunk. */
    static final int MAX_PIECE = 4 * 1024 * 1024;
    /** Waits for one piece: a schedule that changes every minute for a day, well past any real wait. */
    private static final int MAX_WAITS = 1440;

    private Fetched fetchRange(long offset, int length, Identity expected, byte[] into, int at) throws FetchException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(uri)
                .header("Range", "bytes=" + offset + "-" + (offset + length - 1))
                .timeout(options.headerTimeout())
                .GET().build();
        RangeSubscriber sub = new RangeSubscriber(into != null && into.length >= at + length ? into : new byte[length], at, length, fetched);
        HeaderCheck check = new HeaderCheck(offset, length, expected);
        CompletableFuture<HttpResponse<Void>> f = client.sendAsync(req, info -> {
            check.inspect(info);
            // A refused response's body is never read: cancelling frees the connection at once.
            return check.error == null ? sub : new RefusingSubscriber();
        });
        try {
            awaitWithStallDetection(f, sub);
        } catch (ExecutionException e) {
            throw classify(e.getCause());
        }
        if (check.error != null) throw check.error;
        if (sub.error != null) throw sub.error;
        if (sub.received < check.rangeLength) {
            throw new FetchException(AgentError.CONNECTION_LOST, "body ended after " + sub.received + " of " + check.rangeLength
                    + " bytes (range " + offset + "+" + length + ")");
        }
        return new Fetched(sub.buf, sub.received, check.identity);
    }

    private void awaitWithStallDetection(CompletableFuture<HttpResponse<Void>> f, RangeSubscriber sub)
            throws FetchException, ExecutionException, InterruptedException {
        long windowNanos = options.stallTimeout().toNanos();
        long minBytes = Math.max(1, Options.MIN_BYTES_PER_SECOND * options.stallTimeout().toMillis() / 1000);
        long pollMs = Math.max(10, Math.min(1000, options.stallTimeout().toMillis() / 4));
        long start = System.nanoTime();
        long headerDeadline = start + options.headerTimeout().toNanos() + windowNanos;
        long checkpointAt = start;
        long checkpointBytes = 0;
        while (true) {
            try {
                f.get(pollMs, TimeUnit.MILLISECONDS);
                return;
            } catch (TimeoutException e) {
                long now = System.nanoTime();
                if (!sub.started) {
                    // The client's own header timeout should end this first; this is the backstop.
                    if (now > headerDeadline) {
                        f.cancel(true);
                        throw new FetchException(AgentError.TIMEOUT, "no response within " + options.headerTimeout().toSeconds() + " s");
                    }
                    continue;
                }
                if (checkpointBytes == 0 && checkpointAt == start) checkpointAt = sub.subscribedAt;
                if (now - checkpointAt >= windowNanos) {
                    long got = sub.received - checkpointBytes;
                    if (got < minBytes) {
                        sub.cancel();
                        f.cancel(true);
                        throw new FetchException(AgentError.STALLED, got + " body bytes in the last " + options.stallTimeout().toMillis()
                                + " ms (minimum " + minBytes + ") after " + sub.received + " bytes");
                    }
                    checkpointAt = now;
                    checkpointBytes = sub.received;
                }
            } catch (InterruptedException e) {
                sub.cancel();
                f.cancel(true);
                throw e;
            }
        }
    }

    private FetchException classify(Throwable t) {
        if (t instanceof FetchException fe) return fe;
        if (t instanceof HttpConnectTimeoutException) return new FetchException(AgentError.CONNECT_TIMEOUT, "connect to " + uri.getAuthority() + " timed out");
        if (t instanceof HttpTimeoutException) return new FetchException(AgentError.TIMEOUT, "no response headers within " + options.headerTimeout().toSeconds() + " s");
        if (t instanceof java.net.ConnectException) return new FetchException(AgentError.CONNECT_FAILED, "cannot connect to " + uri.getAuthority() + ": " + t.getMessage());
        if (t instanceof IOException) return new FetchException(AgentError.CONNECTION_LOST, "connection to " + uri.getAuthority() + " lost: " + t.getMessage());
        return new FetchException(AgentError.NETWORK_ERROR, String.valueOf(t));
    }

    /** Validates status and headers when they arrive, before any body byte is accepted. */
    private final class HeaderCheck {
        final long offset;
        final int length;
        final Identity expected;
        volatile FetchException error;
        volatile Identity identity;
        volatile int rangeLength;

        HeaderCheck(long offset, int length, Identity expected) {
            this.offset = offset;
            this.length = length;
            this.expected = expected;
        }

        void inspect(HttpResponse.ResponseInfo info) {
            int status = info.statusCode();
            HttpHeaders h = info.headers();
            if (status == 206) {
                Optional<String> cr = h.firstValue("Content-Range");
                if (cr.isEmpty()) {
                    error = new FetchException(AgentError.BAD_RESPONSE, "206 without Content-Range");
                    return;
                }
                Matcher m = CONTENT_RANGE.matcher(cr.get().trim());
                if (!m.matches()) {
                    error = new FetchException(AgentError.BAD_RESPONSE, "unreadable Content-Range '" + cr.get() + "'");
                    return;
                }
                long a = Long.parseLong(m.group(1));
                long b = Long.parseLong(m.group(2));
                long total = Long.parseLong(m.group(3));
                String etag = h.firstValue("ETag").orElse(null);
                identity = new Identity(total, etag);
                if (expected != null && (expected.size() != total
                        || (expected.etag() != null && etag != null && !expected.etag().equals(etag)))) {
                    error = new FetchException(AgentError.BUNDLE_CHANGED, "the bundle at " + uri + " changed since the download started ("
                            + expected.size() + " bytes, ETag " + expected.etag() + " -> " + total + " bytes, ETag " + etag + ")");
                    return;
                }
                long wantEnd = Math.min(offset + length, total) - 1;
                if (a != offset || b != wantEnd) {
                    error = new FetchException(AgentError.BAD_RESPONSE, "Content-Range " + cr.get() + " is not the requested bytes "
                            + offset + "-" + wantEnd);
                    return;
                }
                long cl = h.firstValueAsLong("Content-Length").orElse(-1);
                if (cl >= 0 && cl != b - a + 1) {
                    error = new FetchException(AgentError.BAD_RESPONSE, "Content-Length " + cl + " disagrees with Content-Range " + cr.get());
                    return;
                }
                rangeLength = (int) (b - a + 1);
                return;
            }
            if (status == 200) {
                error = new FetchException(AgentError.RANGE_NOT_SUPPORTED, uri + " answered 200 to a Range request: the server must support "
                        + "byte ranges (HTTP 206) for resumable downloads");
            } else if (status == 416) {
                error = new FetchException(AgentError.BUNDLE_CHANGED, uri + " says range " + offset + "+" + length
                        + " is not satisfiable: the bundle is shorter than when the download started");
            } else if (status == 404 || status == 410) {
                error = new FetchException(AgentError.NOT_FOUND, uri + " answered " + status + ": no bundle at this URL");
            } else if (status == 401 || status == 403) {
                error = new FetchException(AgentError.ACCESS_DENIED, uri + " answered " + status);
            } else if (status >= 300 && status < 400) {
                error = new FetchException(AgentError.TOO_MANY_REDIRECTS, uri + " still redirects (" + status + ") after 5 redirects");
            } else if (status == 408 || status == 429 || status >= 500) {
                error = FetchException.serverBusy(uri + " answered " + status, retryAfter(h));
            } else {
                error = FetchException.httpStatus(status, uri + " answered " + status);
            }
        }
    }

    /** Retry-After as seconds or an HTTP-date (RFC 9110 10.2.3). */
    static Duration retryAfter(HttpHeaders h) {
        Optional<String> v = h.firstValue("Retry-After");
        if (v.isEmpty()) return null;
        String s = v.get().trim();
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(s)));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime t = ZonedDateTime.parse(s, DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration d = Duration.between(ZonedDateTime.now(t.getZone()), t);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (java.time.format.DateTimeParseException e2) {
                return null;
            }
        }
    }

    /** For a refused response: cancels the body at once and completes. */
    private static final class RefusingSubscriber implements HttpResponse.BodySubscriber<Void> {
        private final CompletableFuture<Void> done = new CompletableFuture<>();

        @Override
        public java.util.concurrent.CompletionStage<Void> getBody() {
            return done;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.cancel();
            done.complete(null);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            // cancelled: nothing is read
        }

        @Override
        public void onError(Throwable t) {
            done.complete(null);
        }

        @Override
        public void onComplete() {
            done.complete(null);
        }
    }

    /** Copies the body into the chunk buffer; refuses more bytes than the range. */
    private static final class RangeSubscriber implements HttpResponse.BodySubscriber<Void> {
        final byte[] buf;
        final int capacity;
        final int at;
        final AtomicLong fetched;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        volatile int received;
        volatile long lastProgress = System.nanoTime();
        volatile long subscribedAt;
        volatile boolean started;
        volatile FetchException error;
        private volatile Flow.Subscription subscription;

        RangeSubscriber(byte[] buf, int at, int capacity, AtomicLong fetched) {
            this.buf = buf;
            this.at = at;
            this.capacity = capacity;
            this.fetched = fetched;
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> getBody() {
            return done;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            subscribedAt = System.nanoTime();
            lastProgress = subscribedAt;
            started = true;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer bb : items) {
                int n = bb.remaining();
                fetched.addAndGet(n);
                if (received + n > capacity) {
                    error = new FetchException(AgentError.BAD_RESPONSE, "server sent more bytes than the requested range (" + capacity + ")");
                    cancel();
                    done.complete(null);
                    return;
                }
                bb.get(buf, at + received, n);
                received += n;
            }
            lastProgress = System.nanoTime();
        }

        @Override
        public void onError(Throwable t) {
            if (error == null) {
                error = new FetchException(AgentError.CONNECTION_LOST, "connection lost after " + received + " body bytes: " + t.getMessage());
            }
            done.complete(null);
        }

        @Override
        public void onComplete() {
            done.complete(null);
        }

        void cancel() {
            Flow.Subscription s = subscription;
            if (s != null) s.cancel();
        }
    }
}
