package rsuota.agent.download;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HTTP/1.1 Range server on 127.0.0.1 for one in-memory bundle that records when each body
 * byte left it: {@link #timeline()} is what crossed the "link", for per-window rate checks. Its
 * send buffer is kept small (32 KiB) so that a written byte is close to a byte the client's kernel
 * accepted, i.e. the timeline measures the client's pull, not the server's buffering.
 */
final class TimedRangeServer implements AutoCloseable {
    /** Body write size: fine-grained enough to resolve 1-second windows at any tested cap. */
    static final int WRITE = 8 * 1024;
    static final int SEND_BUFFER = 32 * 1024;
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d+)");

    private final byte[] body;
    private final ServerSocket server;
    private final Thread acceptor;
    private final List<long[]> timeline = new ArrayList<>(); // {System.nanoTime(), bytes}
    private final List<Socket> open = new ArrayList<>();
    private final List<String> ranges = new java.util.concurrent.CopyOnWriteArrayList<>();

    TimedRangeServer(byte[] body) throws IOException {
        this.body = body;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        this.acceptor = new Thread(this::accept, "timed-range-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort() + "/bundle.rsub");
    }

    /** Connections accepted so far. */
    int connections() {
        synchronized (open) {
            return open.size();
        }
    }

    /** The Range header of every request, as "A-B", in arrival order. */
    List<String> ranges() {
        return List.copyOf(ranges);
    }

    /** {nanoTime, bytes} per body write, in order. */
    List<long[]> timeline() {
        synchronized (timeline) {
            return List.copyOf(timeline);
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                s.setSendBufferSize(SEND_BUFFER);
                s.setTcpNoDelay(true); // as web servers do: no Nagle wait between the headers and the body
                synchronized (open) {
                    open.add(s);
                }
                Thread t = new Thread(() -> serve(s), "timed-range-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            // One request after another on a kept-alive connection; ends when the client closes it.
            for (int requests = 0; requests < 100_000; requests++) {
                String head = readHead(in);
                if (head == null) return;
                Matcher m = RANGE.matcher(head);
                if (!m.find()) {
                    out.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    continue;
                }
                int a = Integer.parseInt(m.group(1));
                int b = Math.min(Integer.parseInt(m.group(2)), body.length - 1);
                ranges.add(m.group(1) + "-" + m.group(2));
                out.write(("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + a + "-" + b + "/" + body.length
                        + "\r\nContent-Length: " + (b - a + 1) + "\r\nETag: \"v1\"\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                for (int p = a; p <= b; p += WRITE) {
                    int n = Math.min(WRITE, b + 1 - p);
                    out.write(body, p, n);
                    synchronized (timeline) {
                        timeline.add(new long[] {System.nanoTime(), n});
                    }
                }
                out.flush();
            }
        } catch (IOException e) {
            // client went away
        }
    }

    /** The request line and headers up to the blank line, or null at end of stream. Bounded at 16 KiB. */
    static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        while (b.length() < 16 * 1024) {
            int c = in.read();
            if (c < 0) return null;
            b.append((char) c);
            if (b.length() >= 4 && b.substring(b.length() - 4).equals("\r\n\r\n")) return b.toString();
        }
        throw new IOException("request head over 16 KiB");
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (open) {
            for (Socket s : open) s.close();
        }
    }
}
