package rsuota.agent.download;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Range requests over HTTP: plain HTTP/1.1 on a socket for http:// ({@link Http11Transport}: no
 * HttpClient classes or threads are loaded), the JDK HttpClient for https:// (TLS, HTTP/2;
 * {@link JdkHttpClientTransport}).
 *
 * <p>Every response is checked before its bytes count ({@link RangeCheck}): status 206, a
 * Content-Range naming exactly the requested bytes of a bundle of the expected total size, the same
 * ETag as when the download started, and exactly as many body bytes as the range. A body that stops
 * arriving is abandoned ({@link StallWatch}); an interrupted fetch ends at once.
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

    private final URI uri;
    private final RangeTransport transport;
    private final AtomicLong fetched = new AtomicLong();
    /** Null when uncapped; one bucket for the whole source, so a debt carries over from one range request to the next. */
    private final Throttle throttle;

    public HttpBundleSource(URI uri, Options options) {
        this.uri = uri;
        boolean capped = options.bandwidth() != null
                && (!options.bandwidth().otherwise().isUnlimited() || !options.bandwidth().rules().isEmpty());
        this.throttle = capped ? new Throttle(options.bandwidth(), options.clock()) : null;
        this.transport = "https".equalsIgnoreCase(uri.getScheme())
                ? new JdkHttpClientTransport(options, fetched)
                : new Http11Transport(options, fetched, () -> new JdkHttpClientTransport(options, fetched));
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
        byte[] buf = into != null && into.length >= at + length ? into : new byte[at + length];
        RangeCheck check = new RangeCheck(uri, offset, length, expected);
        int received = transport.get(uri, check, buf, at);
        if (received < check.rangeLength()) throw check.shortBody(received);
        return new Fetched(buf, received, check.identity());
    }

    @Override
    public void close() {
        transport.close();
    }
}
