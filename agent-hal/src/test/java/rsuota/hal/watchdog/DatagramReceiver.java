package rsuota.hal.watchdog;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A real AF_UNIX SOCK_DGRAM socket, bound and read by a python3 helper process (the JDK cannot open
 * one, FIELD-NOTES). An independent implementation on the receiving side proves the datagrams are
 * what any sd_notify listener, systemd included, would see. Each datagram becomes one entry, with
 * newlines inside it shown as "\n".
 */
final class DatagramReceiver implements AutoCloseable {

    private static final String SCRIPT = String.join("\n",
            "import socket, sys",
            "name = sys.argv[1]",
            "addr = '\\0' + name[1:] if name.startswith('@') else name",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
            "s.bind(addr)",
            "print('BOUND', flush=True)",
            "while True:",
            "    d = s.recv(65536)",
            "    print(d.decode('utf-8').replace('\\n', '\\\\n'), flush=True)");

    private final Process process;
    private final List<String> datagrams = new CopyOnWriteArrayList<>();
    private volatile boolean bound;

    DatagramReceiver(String address) throws IOException {
        process = new ProcessBuilder("python3", "-u", "-c", SCRIPT, address)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                // Ends at EOF, when the helper is killed.
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (!bound && line.equals("BOUND")) bound = true;
                    else datagrams.add(line);
                }
            } catch (IOException e) {
                // The helper was killed while a line was in flight; nothing left to read.
            }
        }, "datagram-receiver");
        reader.setDaemon(true);
        reader.start();
        Awaitility.await("python3 helper binds " + address).atMost(20, TimeUnit.SECONDS)
                .until(() -> bound || !process.isAlive());
        if (!bound) throw new IOException("python3 helper could not bind " + address + " (exit " + process.exitValue() + ")");
    }

    List<String> datagrams() {
        return List.copyOf(datagrams);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
