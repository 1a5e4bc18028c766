package rsuota.agent.download;

import java.net.URI;

/**
 * How one Range request travels ({@link HttpBundleSource} picks one by scheme): plain HTTP/1.1 on
 * a socket for http:// ({@link Http11Transport}), the JDK HttpClient with TLS and HTTP/2 for
 * https:// ({@link JdkHttpClientTransport}). Status and header rules live in {@link RangeCheck},
 * the low-speed rule in {@link StallWatch}; a transport only moves bytes and maps its own failures.
 */
interface RangeTransport extends AutoCloseable {

    /**
     * GET {@code uri} for {@code check}'s range, following redirects; the response is handed to
     * {@link RangeCheck#inspect} before any body byte is read, and a refusal is thrown as its
     * {@link RangeCheck#error()}. The body goes to {@code buf} from {@code at}, never more than
     * {@code check.length} bytes ({@link RangeCheck#longBody()} otherwise); every body byte read is
     * added to {@code fetched}.
     *
     * @return body bytes received, fewer than announced when the body ended early
     * @throws FetchException       a refused response, a timeout, a stall or a lost connection
     * @throws InterruptedException the calling thread was interrupted; the request is abandoned at once
     */
    int get(URI uri, RangeCheck check, byte[] buf, int at) throws FetchException, InterruptedException;

    /** Closes kept-alive connections; in-flight requests are not this method's business. */
    @Override
    void close();
}
