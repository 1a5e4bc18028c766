package rsuota.agent.download;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import rsuota.agent.AgentError;

/**
 * One HTTP/1.1 connection for {@link Http11Transport}: writes a request, reads the response head
 * and its body (Content-Length, chunked, or until the server closes) through its own buffer, the
 * body straight into the caller's array.
 *
 * <p>It sits on a {@link SocketChannel}'s socket so that every blocking step (connect, write, read)
 * is interruptible: an interrupt closes the channel and the step throws
 * {@link java.nio.channels.ClosedByInterruptException} at once. Reads wake every {@code pollMillis}
 * (SO_TIMEOUT, after which the channel stays usable) to ask the current {@link Waiter} whether to go
 * on, so a header deadline or a stalled body ends a wait without a watchdog thread. One thread at a time.
 */
final class Http11Connection implements AutoCloseable {

    /** Longest response head (status line and headers) accepted; a Range answer needs well under 1 KiB. */
    static final int MAX_HEAD = 16 * 1024;
    /**
     * Largest single read. A channel copies a read into a heap array through a temporary direct buffer
     * of the read's size, which the JDK then keeps per thread: reading a 4 MiB chunk at once pinned
     * 4 MiB of native memory on the fetch thread. 64 KiB costs one system call per 64 KiB, as the
     * JDK client's buffers did.
     */
    static final int MAX_READ = 64 * 1024;
    /** Interim (1xx) answers skipped before the real one. */
    private static final int MAX_INTERIM = 5;
    /** Header lines in one head, trailer lines after a chunked body. */
    private static final int MAX_LINES = 200;

    /** Decides, each time a read waited {@code pollMillis} (and after each body read), whether to go on; ends a wait by throwing. */
    interface Waiter {
        void waited(long now, long bodyBytes) throws FetchException;
    }

    /** A response head. {@code contentLength} is -1 when absent. */
    record Head(int status, boolean keepAlive, boolean chunked, long contentLength, List<String[]> headers) {
        /** The first value of a header, by case-insensitive name. */
        Optional<String> first(String name) {
            return Optional.ofNullable(value(headers, name));
        }

        /** Whether the connection can carry the next request once this response's body is read. */
        boolean bodyless() {
            return status == 204 || status == 304 || (!chunked && contentLength == 0);
        }
    }

    final String key;
    private final SocketChannel channel;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] buf = new byte[MAX_HEAD];
    private int pos;
    private int lim;
    private boolean answered;
    private boolean reusable;
    private long bodyBytes;
    private Waiter waiter;

    private Http11Connection(String key, SocketChannel channel) throws IOException {
        this.key = key;
        this.channel = channel;
        this.in = channel.socket().getInputStream();
        this.out = channel.socket().getOutputStream();
    }

    /** Connects to {@code host:port} (resolved here) within {@code connectTimeout}. */
    static Http11Connection open(String host, int port, Duration connectTimeout, long pollMillis) throws IOException {
        InetAddress address = InetAddress.getByName(host);
        SocketChannel ch = SocketChannel.open();
        try {
            Socket s = ch.socket();
            s.connect(new InetSocketAddress(address, port), (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
            // One small request per response: no Nagle wait for it.
            s.setTcpNoDelay(true);
            s.setSoTimeout((int) pollMillis);
            return new Http11Connection(key(host, port), ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    static String key(String host, int port) {
        return host + ":" + port;
    }

    /** Whether any byte of the current response arrived (a reused connection that got none may be retried). */
    boolean answered() {
        return answered;
    }

    /** Whether the last body was read to its end on a kept-alive connection. */
    boolean reusable() {
        return reusable;
    }

    /** Body bytes of the current response read so far. */
    long bodyBytes() {
        return bodyBytes;
    }

    void send(byte[] request) throws IOException {
        answered = false;
        reusable = false;
        bodyBytes = 0;
        out.write(request);
        out.flush();
    }

    /**
     * The next final response head (1xx answers skipped). Kept in small parts (status, header lines,
     * framing): C2 compiles this once a few thousand responses have gone by, late in a large install,
     * and one method holding all of it took ~2 MiB of compiler memory at once (docs/benchmarks.md).
     */
    Head readHead(Waiter w) throws IOException, FetchException {
        waiter = w;
        for (int interim = 0; interim <= MAX_INTERIM; interim++) {
            String status = line();
            int code = statusCode(status);
            List<String[]> headers = headerLines(MAX_HEAD - status.length());
            if (code < 100 || code >= 200) return framed(code, status.charAt(7) != '0', headers);
        }
        throw bad("more than " + MAX_INTERIM + " interim (1xx) answers");
    }

    private static int statusCode(String status) throws FetchException {
        if (!status.startsWith("HTTP/1.") || status.length() < 12 || status.charAt(8) != ' ') {
            throw bad("not an HTTP/1.x status line: '" + clip(status) + "'");
        }
        try {
            return Integer.parseInt(status.substring(9, 12));
        } catch (NumberFormatException e) {
            throw bad("unreadable status in '" + clip(status) + "'");
        }
    }

    /** The header lines up to the empty one, as name and value, within {@code budget} characters. */
    private List<String[]> headerLines(int budget) throws IOException, FetchException {
        List<String[]> headers = new ArrayList<>();
        for (String l = line(); !l.isEmpty(); l = line()) {
            budget -= l.length();
            if (budget < 0 || headers.size() >= MAX_LINES) throw bad("response head longer than " + MAX_HEAD + " bytes");
            int colon = l.indexOf(':');
            if (colon <= 0) throw bad("unreadable header line '" + clip(l) + "'");
            headers.add(new String[] {l.substring(0, colon).trim(), l.substring(colon + 1).trim()});
        }
        return headers;
    }

    /** The head with its framing: keep-alive, chunked, Content-Length. */
    private static Head framed(int code, boolean http11, List<String[]> headers) throws FetchException {
        String connection = value(headers, "Connection");
        boolean keepAlive = connection == null ? http11 : http11 ? !connection.equalsIgnoreCase("close") : connection.equalsIgnoreCase("keep-alive");
        String te = value(headers, "Transfer-Encoding");
        boolean chunked = te != null && te.toLowerCase(java.util.Locale.ROOT).contains("chunked");
        String cl = chunked ? null : value(headers, "Content-Length");
        return new Head(code, keepAlive, chunked, cl == null ? -1 : contentLength(cl), headers);
    }

    private static long contentLength(String value) throws FetchException {
        long length;
        try {
            length = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw bad("unreadable Content-Length '" + clip(value) + "'");
        }
        if (length < 0) throw bad("negative Content-Length " + length);
        return length;
    }

    /** The first value of a header by case-insensitive name, or null. */
    private static String value(List<String[]> headers, String name) {
        for (String[] h : headers) {
            if (h[0].equalsIgnoreCase(name)) return h[1];
        }
        return null;
    }

    /**
     * Reads the body of {@code h} into {@code dst[at, at + capacity)}; {@code tooLong} is thrown when
     * the server sends more. Returns the bytes read: fewer than framed when the server closed early.
     * Afterwards {@link #reusable()} says whether the connection may carry another request.
     */
    int readBody(Head h, byte[] dst, int at, int capacity, AtomicLong fetched, FetchException tooLong, Waiter w)
            throws IOException, FetchException {
        waiter = w;
        if (h.status() == 204 || h.status() == 304) {
            reusable = h.keepAlive();
            return 0;
        }
        int got;
        if (h.chunked()) {
            got = 0;
            // Bounded: every chunk but the last brings at least one byte, and at most capacity arrive.
            while (true) {
                long size = chunkSize(line());
                if (size == 0) break;
                if (got + size > capacity) throw tooLong;
                int end = got + (int) size;
                got = fill(dst, at, got, end, fetched);
                if (got < end) return got;
                if (!line().isEmpty()) throw bad("no line end after a chunk");
            }
            for (int i = 0; !line().isEmpty(); i++) {
                if (i >= MAX_LINES) throw bad("more than " + MAX_LINES + " trailer lines");
            }
            reusable = h.keepAlive();
            return got;
        }
        if (h.contentLength() >= 0) {
            if (h.contentLength() > capacity) throw tooLong;
            int end = (int) h.contentLength();
            got = fill(dst, at, 0, end, fetched);
            reusable = got == end && h.keepAlive();
            return got;
        }
        // Framed by the server closing the connection: read to the end, then look for one byte too many.
        got = fill(dst, at, 0, capacity, fetched);
        if (got == capacity && take(new byte[1], 0, 1) > 0) throw tooLong;
        return got;
    }

    /** Reads into dst[at + got, at + end) until full or the server closes; returns the new count. */
    private int fill(byte[] dst, int at, int got, int end, AtomicLong fetched) throws IOException, FetchException {
        // Bounded: each pass brings bytes or ends; the waiter ends a stall.
        while (got < end) {
            int n = take(dst, at + got, end - got);
            if (n < 0) return got;
            got += n;
            bodyBytes += n;
            fetched.addAndGet(n);
            waiter.waited(System.nanoTime(), bodyBytes);
        }
        return got;
    }

    /** Bytes left in the head buffer first, then straight from the socket. -1 at end of stream. */
    private int take(byte[] dst, int off, int len) throws IOException, FetchException {
        if (pos < lim) {
            int n = Math.min(len, lim - pos);
            System.arraycopy(buf, pos, dst, off, n);
            pos += n;
            return n;
        }
        return read(dst, off, len);
    }

    /** One line (CRLF or LF) from the buffer, in ISO-8859-1, without its end. */
    private String line() throws IOException, FetchException {
        int from = pos;
        // Bounded: each pass adds bytes to a buffer of fixed size, or fails.
        while (true) {
            for (int i = from; i < lim; i++) {
                if (buf[i] == '\n') {
                    int end = i > pos && buf[i - 1] == '\r' ? i - 1 : i;
                    String s = new String(buf, pos, end - pos, StandardCharsets.ISO_8859_1);
                    pos = i + 1;
                    return s;
                }
            }
            from = lim;
            if (lim == buf.length) {
                if (pos == 0) throw bad("a response line longer than " + MAX_HEAD + " bytes");
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                from -= pos;
                lim -= pos;
                pos = 0;
            }
            int n = read(buf, lim, buf.length - lim);
            if (n < 0) {
                throw new EOFException(answered ? "the server closed the connection mid-line" : "the server closed the connection without answering");
            }
            lim += n;
        }
    }

    /** One read from the socket; each SO_TIMEOUT wake-up goes to the waiter, which ends the wait by throwing. */
    private int read(byte[] dst, int off, int len) throws IOException, FetchException {
        // Bounded by the waiter: its deadline or stall window throws.
        while (true) {
            try {
                int n = in.read(dst, off, Math.min(len, MAX_READ));
                if (n > 0) answered = true;
                return n;
            } catch (SocketTimeoutException e) {
                waiter.waited(System.nanoTime(), bodyBytes);
            }
        }
    }

    private static long chunkSize(String line) throws FetchException {
        int semi = line.indexOf(';');
        String hex = (semi >= 0 ? line.substring(0, semi) : line).trim();
        try {
            long size = hex.length() > 8 ? -1 : Long.parseLong(hex, 16);
            if (size < 0) throw new NumberFormatException();
            return size;
        } catch (NumberFormatException e) {
            throw bad("unreadable chunk size '" + clip(line) + "'");
        }
    }

    private static FetchException bad(String what) {
        return new FetchException(AgentError.BAD_RESPONSE, what);
    }

    private static String clip(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing a socket we abandon: nothing left to save
        }
    }
}
