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
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server on 127.0.0.1 that answers each connection with a script written against the raw socket:
 * headers that never come, a body that stops, chunked or close-framed bodies, a connection closed
 * after one answer. Records connections and requests; {@link #close()} drops every connection.
 */
final class ScriptedHttpServer implements AutoCloseable {

    /** Serves one connection; {@code connection} counts from 0. Returning closes it. */
    interface Script {
        void serve(Conn c, int connection) throws IOException, InterruptedException;
    }

    /** One accepted connection. */
    final class Conn {
        final Socket socket;
        final InputStream in;
        final OutputStream out;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        /** The next request head, or null when the client closed the connection. */
        String request() throws IOException {
            String head = TimedRangeServer.readHead(in);
            if (head != null) requests.add(head);
            return head;
        }

        void send(String ascii) throws IOException {
            out.write(ascii.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        void send(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            out.flush();
        }

        /** Waits until the client closes the connection (read returns -1 or fails); bounded by the test's own timeout. */
        void awaitClientClose() {
            try {
                while (in.read() >= 0) {
                    // discard
                }
            } catch (IOException e) {
                // reset by the client: closed too
            }
            clientClosed.incrementAndGet();
        }
    }

    private final ServerSocket server = new ServerSocket();
    private final Script script;
    private final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger clientClosed = new AtomicInteger();
    final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    ScriptedHttpServer(Script script) throws IOException {
        this.script = script;
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread t = new Thread(this::accept, "scripted-http-accept");
        t.setDaemon(true);
        t.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort() + "/b.rsub");
    }

    int connections() {
        return accepted.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                open.add(s);
                int n = accepted.getAndIncrement();
                Thread t = new Thread(() -> {
                    try (s) {
                        script.serve(new Conn(s), n);
                    } catch (IOException | InterruptedException e) {
                        // the client went away or the test ended
                    }
                }, "scripted-http-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** A 206 head for bytes a-b of a body of {@code total}, framed by Content-Length unless {@code extra} says otherwise. */
    static String head206(long a, long b, long total, String extra) {
        return "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + a + "-" + b + "/" + total + "\r\n"
                + (extra == null ? "Content-Length: " + (b - a + 1) + "\r\n" : extra) + "\r\n";
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) s.close();
    }
}
