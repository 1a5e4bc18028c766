package rsuota.agent.download;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import rsuota.agent.AgentError;

/**
 * Range requests on the JDK {@link HttpClient}: https:// (TLS, HTTP/2 by ALPN) and the http:// to
 * https:// redirects of {@link Http11Transport}. Costs ~5 MiB of RSS over the socket path (151
 * classes, a selector thread), so an http:// install never creates one.
 */
final class JdkHttpClientTransport implements RangeTransport {

    static {
        // The client's default 16 KiB body buffers cost ~30 % of download throughput here
        // (docs/benchmarks.md); 64 KiB halves the per-buffer work. Read once when the client class
        // loads, so it is set before the first client exists; an explicit -D wins.
        if (System.getProperty("jdk.httpclient.bufsize") == null) {
            System.setProperty("jdk.httpclient.bufsize", Integer.toString(64 * 1024));
        }
    }

    private final HttpBundleSource.Options options;
    private final AtomicLong fetched;
    private final HttpClient client;

    JdkHttpClientTransport(HttpBundleSource.Options options, AtomicLong fetched) {
        this.options = options;
        this.fetched = fetched;
        HttpClient.Builder b = HttpClient.newBuilder()
                .connectTimeout(options.connectTimeout())
                // NORMAL follows up to 5 redirects (jdk.httpclient.redirects.retrylimit); a loop ends as a 3xx in RangeCheck.
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
    public int get(URI uri, RangeCheck check, byte[] buf, int at) throws FetchException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(uri)
                .header("Range", "bytes=" + check.offset + "-" + (check.offset + check.length - 1))
                .timeout(options.headerTimeout())
                .GET().build();
        RangeSubscriber sub = new RangeSubscriber(buf, at, check, fetched);
        CompletableFuture<HttpResponse<Void>> f = client.sendAsync(req, info -> {
            check.inspect(info.statusCode(), info.headers()::firstValue);
            // A refused response's body is never read: cancelling frees the connection at once.
            return check.error() == null ? sub : new RefusingSubscriber();
        });
        try {
            awaitWithStallDetection(f, sub);
        } catch (ExecutionException e) {
            throw classify(uri, e.getCause());
        }
        if (check.error() != null) throw check.error();
        if (sub.error != null) throw sub.error;
        return sub.received;
    }

    @Override
    public void close() {
        // The JDK 17 client has no close: its selector thread ends once the client is unreachable.
    }

    private void awaitWithStallDetection(CompletableFuture<HttpResponse<Void>> f, RangeSubscriber sub)
            throws FetchException, ExecutionException, InterruptedException {
        long pollMs = StallWatch.pollMillis(options.stallTimeout());
        long headerDeadline = System.nanoTime() + options.headerTimeout().toNanos() + options.stallTimeout().toNanos();
        StallWatch watch = null;
        // Bounded: before the headers by headerDeadline, after them by the stall window (each window
        // must bring bytes, and the body is at most one range).
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
                if (watch == null) watch = new StallWatch(options.stallTimeout(), sub.subscribedAt);
                try {
                    watch.check(now, sub.received);
                } catch (FetchException stalled) {
                    sub.cancel();
                    f.cancel(true);
                    throw stalled;
                }
            } catch (InterruptedException e) {
                sub.cancel();
                f.cancel(true);
                throw e;
            }
        }
    }

    private FetchException classify(URI uri, Throwable t) {
        if (t instanceof FetchException fe) return fe;
        if (t instanceof HttpConnectTimeoutException) return new FetchException(AgentError.CONNECT_TIMEOUT, "connect to " + uri.getAuthority() + " timed out");
        if (t instanceof HttpTimeoutException) return new FetchException(AgentError.TIMEOUT, "no response headers within " + options.headerTimeout().toSeconds() + " s");
        if (t instanceof java.net.ConnectException) return new FetchException(AgentError.CONNECT_FAILED, "cannot connect to " + uri.getAuthority() + ": " + t.getMessage());
        if (t instanceof IOException) return new FetchException(AgentError.CONNECTION_LOST, "connection to " + uri.getAuthority() + " lost: " + t.getMessage());
        return new FetchException(AgentError.NETWORK_ERROR, String.valueOf(t));
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
        final int at;
        final RangeCheck check;
        final AtomicLong fetched;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        volatile int received;
        volatile long subscribedAt;
        volatile boolean started;
        volatile FetchException error;
        private volatile Flow.Subscription subscription;

        RangeSubscriber(byte[] buf, int at, RangeCheck check, AtomicLong fetched) {
            this.buf = buf;
            this.at = at;
            this.check = check;
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
            started = true;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer bb : items) {
                int n = bb.remaining();
                fetched.addAndGet(n);
                if (received + n > check.length) {
                    error = check.longBody();
                    cancel();
                    done.complete(null);
                    return;
                }
                bb.get(buf, at + received, n);
                received += n;
            }
        }

        @Override
        public void onError(Throwable t) {
            if (error == null) error = RangeCheck.lostInBody(received, t.getMessage());
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
