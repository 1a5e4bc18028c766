package rsuota.agent.download;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import rsuota.agent.AgentError;

/**
 * The http:// path ({@link Http11Transport}) against servers scripted at the socket: what it does
 * differently from the JDK client's path is its own waiting (header deadline, low-speed window,
 * interrupts) and its own connection handling (keep-alive reuse, body framing).
 */
class Http11TransportTest {
    static final Pattern RANGE = Pattern.compile("Range: bytes=(\\d+)-(\\d+)");
    static final byte[] BODY = new byte[256 * 1024];

    static {
        new SplittableRandom(15).nextBytes(BODY);
    }

    static HttpBundleSource.Options options(Duration header, Duration stall) {
        return new HttpBundleSource.Options(Duration.ofSeconds(5), header, stall, null);
    }

    /** {first, last} of the request's Range, last clipped to the body. */
    static int[] range(String request) {
        Matcher m = RANGE.matcher(request);
        assertThat(m.find()).as(request).isTrue();
        return new int[] {Integer.parseInt(m.group(1)), Math.min(Integer.parseInt(m.group(2)), BODY.length - 1)};
    }

    static FetchException fetchFails(HttpBundleSource src, int length) {
        try {
            src.fetch(0, length, null, null);
        } catch (FetchException e) {
            return e;
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("the fetch succeeded");
    }

    @Test
    void headersThatNeverComeEndAsATimeoutAfterTheHeaderTimeout() throws Exception {
        try (ScriptedHttpServer server = new ScriptedHttpServer((c, n) -> {
                    c.request();
                    c.awaitClientClose();
                });
             HttpBundleSource src = new HttpBundleSource(server.uri(), options(Duration.ofSeconds(1), Duration.ofSeconds(30)))) {
            long t0 = System.nanoTime();
            FetchException e = fetchFails(src, 1000);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(e.code()).isEqualTo(AgentError.TIMEOUT);
            assertThat(e.getMessage()).contains("no response headers within 1 s");
            assertThat(ms).as("ended by the header timeout, not the 30 s stall window").isBetween(900L, 5_000L);
            await().atMost(Duration.ofSeconds(5)).until(() -> server.clientClosed.get() == 1);
        }
    }

    @Test
    void aBodyThatStopsMidwayIsAbandonedAsStalledAfterTheWindow() throws Exception {
        try (ScriptedHttpServer server = new ScriptedHttpServer((c, n) -> {
                    int[] r = range(c.request());
                    c.send(ScriptedHttpServer.head206(r[0], r[1], BODY.length, null));
                    c.send(BODY, r[0], 10_000);
                    c.awaitClientClose();
                });
             HttpBundleSource src = new HttpBundleSource(server.uri(), options(Duration.ofSeconds(30), Duration.ofSeconds(1)))) {
            long t0 = System.nanoTime();
            FetchException e = fetchFails(src, 64 * 1024);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(e.code()).isEqualTo(AgentError.STALLED);
            assertThat(e.getMessage()).contains("0 body bytes in the last 1000 ms").contains("after 10000 bytes");
            assertThat(ms).as("one stall window and a poll, not the 30 s header timeout").isBetween(900L, 5_000L);
            assertThat(src.bytesFetched()).isEqualTo(10_000);
            await().atMost(Duration.ofSeconds(5)).until(() -> server.clientClosed.get() == 1);
        }
    }

    /** A body dripping {@code piece} bytes every {@code everyMs}: 64 KiB in total, over more than the 1 s window. */
    static ScriptedHttpServer drip(int piece, int everyMs) throws IOException {
        return new ScriptedHttpServer((c, n) -> {
            int[] r = range(c.request());
            c.send(ScriptedHttpServer.head206(r[0], r[1], BODY.length, null));
            for (int p = r[0]; p <= r[1]; p += piece) {
                c.send(BODY, p, Math.min(piece, r[1] + 1 - p));
                Thread.sleep(everyMs); // the server's pace is the scenario
            }
            c.awaitClientClose();
        });
    }

    @Test
    void aSlowButMovingBodyIsKeptPastTheStallWindow() throws Exception {
        // 2 KiB every 50 ms: 40 KiB/s, over the 1 KiB/s minimum; 64 KiB take ~1.6 s, longer than the window.
        try (ScriptedHttpServer server = drip(2048, 50);
             HttpBundleSource src = new HttpBundleSource(server.uri(), options(Duration.ofSeconds(5), Duration.ofSeconds(1)))) {
            long t0 = System.nanoTime();
            BundleSource.Fetched f = src.fetch(0, 64 * 1024, null, null);
            assertThat(System.nanoTime() - t0).as("the drip outlasted the window").isGreaterThan(TimeUnit.SECONDS.toNanos(1));
            assertThat(f.length()).isEqualTo(64 * 1024);
            assertThat(Arrays.equals(f.data(), 0, f.length(), BODY, 0, 64 * 1024)).isTrue();
        }
    }

    @Test
    void aDripBelowTheMinimumRateIsStalledAlthoughBytesKeepComing() throws Exception {
        // 60 bytes every 100 ms: 600 B/s, under the 1,024 B/s minimum; every read returns before a poll would.
        try (ScriptedHttpServer server = drip(60, 100);
             HttpBundleSource src = new HttpBundleSource(server.uri(), options(Duration.ofSeconds(5), Duration.ofSeconds(1)))) {
            FetchException e = fetchFails(src, 64 * 1024);
            assertThat(e.code()).isEqualTo(AgentError.STALLED);
            assertThat(src.bytesFetched()).isBetween(300L, 3_000L);
        }
    }

    /** A fetch of the first 64 KiB on a thread of its own, for interrupting. */
    static final class FetchThread {
        final AtomicReference<Throwable> ended = new AtomicReference<>();
        final Thread thread;

        FetchThread(HttpBundleSource src) {
            thread = new Thread(() -> {
                try {
                    src.fetch(0, 64 * 1024, null, null);
                    ended.set(new AssertionError("the fetch completed"));
                } catch (Exception e) {
                    ended.set(e);
                }
            }, "rsu-fetch-test");
            thread.start();
        }

        /** Interrupts the fetch; it must end with InterruptedException within a second. */
        void interruptAndExpectAPromptEnd() throws InterruptedException {
            long t0 = System.nanoTime();
            thread.interrupt();
            thread.join(TimeUnit.SECONDS.toMillis(5));
            assertThat(thread.isAlive()).as("the fetch ended").isFalse();
            assertThat((System.nanoTime() - t0) / 1_000_000).as("ms from interrupt to end").isLessThan(1_000L);
            assertThat(ended.get()).isInstanceOf(InterruptedException.class);
        }
    }

    @ParameterizedTest(name = "interrupted while {0}")
    @ValueSource(strings = {"headers pending", "mid-body"})
    void anInterruptEndsTheFetchAtOnceAndDropsTheConnection(String when) throws Exception {
        boolean midBody = when.equals("mid-body");
        CountDownLatch waiting = new CountDownLatch(1);
        try (ScriptedHttpServer server = new ScriptedHttpServer((c, n) -> {
                    int[] r = range(c.request());
                    if (midBody) {
                        c.send(ScriptedHttpServer.head206(r[0], r[1], BODY.length, null));
                        c.send(BODY, r[0], 5_000);
                    }
                    waiting.countDown();
                    c.awaitClientClose();
                });
             HttpBundleSource src = new HttpBundleSource(server.uri(), options(Duration.ofSeconds(30), Duration.ofSeconds(30)))) {
            FetchThread fetcher = new FetchThread(src);
            assertThat(waiting.await(10, TimeUnit.SECONDS)).isTrue();
            if (midBody) await().atMost(Duration.ofSeconds(5)).until(() -> src.bytesFetched() == 5_000);
            fetcher.interruptAndExpectAPromptEnd();
            await().atMost(Duration.ofSeconds(5)).until(() -> server.clientClosed.get() == 1);
        }
    }

    /**
     * A listener on 127.0.0.1 that never accepts, its queue (backlog 1) filled by two idle clients: Linux
     * then drops further SYNs, so a new connect hangs as towards a silent host.
     */
    static final class SilentListener implements AutoCloseable {
        final java.net.ServerSocket server = new java.net.ServerSocket();
        final java.util.List<java.net.Socket> fillers = new java.util.ArrayList<>();

        SilentListener() throws IOException {
            server.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 1);
            for (int i = 0; i < 2; i++) {
                java.net.Socket s = new java.net.Socket();
                s.connect(server.getLocalSocketAddress(), 2_000);
                fillers.add(s);
            }
        }

        java.net.URI uri() {
            return java.net.URI.create("http://127.0.0.1:" + server.getLocalPort() + "/b.rsub");
        }

        @Override
        public void close() throws IOException {
            for (java.net.Socket s : fillers) s.close();
            server.close();
        }
    }

    @Test
    void aRefusedConnectionIsConnectFailedAndASilentHostAConnectTimeout() throws Exception {
        int closedPort;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        HttpBundleSource.Options oneSecond = new HttpBundleSource.Options(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(30), null);
        try (HttpBundleSource src = new HttpBundleSource(java.net.URI.create("http://127.0.0.1:" + closedPort + "/b.rsub"), oneSecond)) {
            FetchException e = fetchFails(src, 1000);
            assertThat(e.code()).isEqualTo(AgentError.CONNECT_FAILED);
            assertThat(e.getMessage()).contains("cannot connect to 127.0.0.1:" + closedPort);
        }
        try (SilentListener silent = new SilentListener();
             HttpBundleSource src = new HttpBundleSource(silent.uri(), oneSecond)) {
            long t0 = System.nanoTime();
            FetchException e = fetchFails(src, 1000);
            assertThat(e.code()).as(e.getMessage()).isEqualTo(AgentError.CONNECT_TIMEOUT);
            assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(900L, 5_000L);
        }
    }

    @Test
    void anInterruptEndsAHangingConnectAtOnce() throws Exception {
        try (SilentListener silent = new SilentListener();
             HttpBundleSource src = new HttpBundleSource(silent.uri(), HttpBundleSource.Options.defaults())) {
            FetchThread fetcher = new FetchThread(src);
            // In the connect: the thread waits in the kernel (no byte can come; the listener never accepts).
            await().atMost(Duration.ofSeconds(5)).until(() -> fetcher.thread.getState() == Thread.State.RUNNABLE && Arrays.stream(fetcher.thread.getStackTrace())
                    .anyMatch(f -> f.getMethodName().contains("onnect")));
            fetcher.interruptAndExpectAPromptEnd();
        }
    }

    /** This process's open sockets. */
    static long sockets() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }

    @Test
    void oneKeptAliveConnectionCarriesEveryRangeAndNoSocketLeaks() throws Exception {
        byte[] bundle = new byte[1024 * 1024];
        new SplittableRandom(7).nextBytes(bundle);
        try (TimedRangeServer server = new TimedRangeServer(bundle)) {
            long before = sockets();
            byte[] into = new byte[4096];
            try (HttpBundleSource src = new HttpBundleSource(server.uri(), HttpBundleSource.Options.defaults())) {
                for (int i = 0; i < 256; i++) {
                    BundleSource.Fetched f = src.fetch(i * 4096L, 4096, null, into);
                    assertThat(Arrays.equals(f.data(), 0, 4096, bundle, i * 4096, (i + 1) * 4096)).as("range %d", i).isTrue();
                }
                assertThat(server.connections()).as("connections for 256 ranges").isEqualTo(1);
                // The client's end and the server's accepted end of the one connection.
                assertThat(sockets()).isLessThanOrEqualTo(before + 2);
                assertThat(src.bytesFetched()).isEqualTo(bundle.length);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> sockets() <= before + 1);
        }
    }

    @Test
    void aKeptConnectionTheServerClosedIsReplacedWithoutAFailure() throws Exception {
        // One answer per connection, without saying "Connection: close": the kept socket is dead at the next request.
        try (ScriptedHttpServer server = new ScriptedHttpServer((c, n) -> {
                    int[] r = range(c.request());
                    c.send(ScriptedHttpServer.head206(r[0], r[1], BODY.length, null));
                    c.send(BODY, r[0], r[1] - r[0] + 1);
                });
             HttpBundleSource src = new HttpBundleSource(server.uri(), HttpBundleSource.Options.defaults())) {
            for (int i = 0; i < 5; i++) {
                BundleSource.Fetched f = src.fetch(i * 1000L, 1000, null, null);
                assertThat(Arrays.equals(f.data(), 0, 1000, BODY, i * 1000, (i + 1) * 1000)).isTrue();
            }
            assertThat(server.requests).as("each range asked once, none twice").hasSize(5);
            assertThat(server.connections()).isEqualTo(5);
        }
    }

    @Test
    void chunkedAndCloseFramedBodiesAreRead() throws Exception {
        try (ScriptedHttpServer server = new ScriptedHttpServer((c, n) -> {
                    int[] r = range(c.request());
                    if (n == 0) {
                        c.send(ScriptedHttpServer.head206(r[0], r[1], BODY.length, "Transfer-Encoding: chunked\r\n"));
                        for (int p = r[0]; p <= r[1]; p += 3000) {
                            int len = Math.min(3000, r[1] + 1 - p);
                            c.send(Integer.toHexString(len) + ";ext=1\r\n");
                            c.send(BODY, p, len);
                            c.send("\r\n");
                        }
                        c.send("0\r\nX-Trailer: t\r\n\r\n");
                        // The chunked body ended cleanly: the next range comes on this connection.
                        r = range(c.request());
                        c.send("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + r[0] + "-" + r[1] + "/" + BODY.length
                                + "\r\nConnection: close\r\n\r\n");
                        c.send(BODY, r[0], r[1] - r[0] + 1);
                    }
                });
             HttpBundleSource src = new HttpBundleSource(server.uri(), HttpBundleSource.Options.defaults())) {
            BundleSource.Fetched chunked = src.fetch(0, 10_000, null, null);
            assertThat(Arrays.equals(chunked.data(), 0, 10_000, BODY, 0, 10_000)).isTrue();
            BundleSource.Fetched closeFramed = src.fetch(10_000, 7_000, null, null);
            assertThat(Arrays.equals(closeFramed.data(), 0, 7_000, BODY, 10_000, 17_000)).isTrue();
            assertThat(server.connections()).isEqualTo(1);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"chunked-too-long", "close-framed-too-long", "not-http", "huge-head", "bad-chunk-size"})
    void aMalformedOrOverlongAnswerIsABadResponse(String how) throws Exception {
        try (ScriptedHttpServer server = new ScriptedHttpServer((c, n) -> {
                    int[] r = range(c.request());
                    switch (how) {
                        case "chunked-too-long" -> {
                            c.send(ScriptedHttpServer.head206(r[0], r[1], BODY.length, "Transfer-Encoding: chunked\r\n"));
                            c.send(Integer.toHexString(r[1] - r[0] + 2) + "\r\n");
                            c.send(BODY, 0, r[1] - r[0] + 2);
                            c.send("\r\n0\r\n\r\n");
                        }
                        case "close-framed-too-long" -> {
                            c.send(ScriptedHttpServer.head206(r[0], r[1], BODY.length, ""));
                            c.send(BODY, 0, r[1] - r[0] + 2);
                        }
                        case "not-http" -> c.send("SSH-2.0-OpenSSH_9.2\r\n\r\n");
                        case "huge-head" -> c.send("HTTP/1.1 206 Partial Content\r\nX-Pad: " + "a".repeat(20_000) + "\r\n\r\n");
                        default -> c.send(ScriptedHttpServer.head206(r[0], r[1], BODY.length, "Transfer-Encoding: chunked\r\n") + "zz\r\n");
                    }
                });
             HttpBundleSource src = new HttpBundleSource(server.uri(), HttpBundleSource.Options.defaults())) {
            FetchException e = fetchFails(src, 1000);
            assertThat(e.code()).as(e.getMessage()).isEqualTo(AgentError.BAD_RESPONSE);
            assertThat(e.getMessage()).containsAnyOf("more bytes than the requested range", "not an HTTP/1.x status line",
                    "longer than 16384 bytes", "unreadable chunk size");
        }
    }

    @Test
    void theRequestNamesTheHostTheRangeAndTheAgent() throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        try (ScriptedHttpServer server = new ScriptedHttpServer((c, n) -> {
                    String req = c.request();
                    seen.complete(req);
                    int[] r = range(req);
                    c.send(ScriptedHttpServer.head206(r[0], r[1], BODY.length, null));
                    c.send(BODY, r[0], r[1] - r[0] + 1);
                });
             HttpBundleSource src = new HttpBundleSource(java.net.URI.create(server.uri() + "?t=1"), HttpBundleSource.Options.defaults())) {
            src.fetch(100, 50, null, null);
            assertThat(seen.get(5, TimeUnit.SECONDS)).startsWith("GET /b.rsub?t=1 HTTP/1.1\r\n")
                    .contains("\r\nHost: 127.0.0.1:" + server.uri().getPort() + "\r\n")
                    .contains("\r\nRange: bytes=100-149\r\n")
                    .contains("\r\nUser-Agent: " + Http11Transport.USER_AGENT + "\r\n");
        }
    }
}
