package rsuota.agent.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Timer;
import java.util.TimerTask;
import java.util.function.Consumer;
import rsuota.agent.AgentError;

/**
 * The CLI's end of the control socket. {@link #connect} answers "no daemon" (empty) when there is
 * no socket file or nobody listens on it (a stopped or killed daemon), so the command falls back to
 * the state directory; a daemon that refuses this user is a {@link ControlFailure}, never a fallback.
 */
public final class ControlClient implements AutoCloseable {
    /** A live daemon greets at once; one that does not within this is hung, and saying so beats waiting forever. */
    static final long HELLO_TIMEOUT_MS = 10_000;

    /** The daemon's final answer: lines to print and the result for --json. */
    public record Reply(List<String> lines, JsonNode result) {}

    private final Path socket;
    private final SocketChannel channel;
    private final InputStream in;
    private final OutputStream out;
    private final JsonNode hello;
    private long nextId = 1;

    private ControlClient(Path socket, SocketChannel channel, JsonNode hello) {
        this.socket = socket;
        this.channel = channel;
        this.in = Channels.newInputStream(channel);
        this.out = Channels.newOutputStream(channel);
        this.hello = hello;
    }

    public static Optional<ControlClient> connect(Path socket) throws ControlFailure {
        if (socket == null || !Files.exists(socket)) return Optional.empty();
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException e) {
            throw new ControlFailure(AgentError.DAEMON_GONE, "cannot open a Unix socket: " + e.getMessage());
        }
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (ConnectException e) {
            close(ch);
            return Optional.empty(); // a socket file nobody listens on: the daemon is not running
        } catch (SocketException e) {
            close(ch);
            if (String.valueOf(e.getMessage()).contains("Permission denied")) {
                throw new ControlFailure(AgentError.PERMISSION_DENIED, "the running daemon's control socket " + socket
                        + " is for root and its group (control.group, normally rsu-tech); user '" + System.getProperty("user.name")
                        + "' may not use it. Ask an administrator: usermod -aG rsu-tech " + System.getProperty("user.name"));
            }
            if (String.valueOf(e.getMessage()).contains("No such file")) return Optional.empty();
            throw new ControlFailure(AgentError.DAEMON_GONE, "cannot reach the daemon at " + socket + ": " + e.getMessage());
        } catch (IOException e) {
            close(ch);
            throw new ControlFailure(AgentError.DAEMON_GONE, "cannot reach the daemon at " + socket + ": " + e.getMessage());
        }
        Timer timer = new Timer("rsu-control-hello", true);
        timer.schedule(new TimerTask() {
            @Override
            public void run() {
                close(ch);
            }
        }, HELLO_TIMEOUT_MS);
        try {
            ControlClient c = new ControlClient(socket, ch, null);
            JsonNode first = c.read();
            if (first == null) {
                throw new ControlFailure(AgentError.DAEMON_GONE, "the daemon at " + socket + " did not greet within "
                        + HELLO_TIMEOUT_MS / 1000 + " s; it may be hung: 'systemctl status rsu-agent', 'journalctl -u rsu-agent'");
            }
            if ("reply".equals(first.path("type").asText())) throw failure(first); // refused (permission, too many)
            if (first.path("v").asInt() != ControlProtocol.VERSION || !"hello".equals(first.path("type").asText())) {
                throw new ControlFailure(AgentError.BAD_REQUEST, "the daemon speaks control protocol " + first.path("v")
                        + ", this rsu-agent speaks " + ControlProtocol.VERSION + "; the package is half upgraded? restart rsu-agent");
            }
            return Optional.of(new ControlClient(socket, ch, first));
        } catch (ControlFailure f) {
            close(ch);
            throw f;
        } finally {
            timer.cancel();
        }
    }

    /** The daemon's greeting (device id, the user it sees). */
    public JsonNode hello() {
        return hello;
    }

    public Path socket() {
        return socket;
    }

    /**
     * Sends one request and reads until its reply; {@code onMessage} sees each progress, event and
     * data message on the way. A refusal or a failure of the action is thrown as the daemon sent it.
     */
    public Reply call(String op, Map<String, String> args, Consumer<JsonNode> onMessage) throws ControlFailure {
        long id = nextId++;
        String technician = System.getenv("RSU_AGENT_TECHNICIAN");
        if (technician != null && !technician.isBlank() && !args.containsKey(ControlServer.ON_BEHALF_OF)) {
            // Set by the packaged launcher under sudo; the daemon believes it only from root or its own account.
            args = new java.util.LinkedHashMap<>(args);
            args.put(ControlServer.ON_BEHALF_OF, technician.strip());
        }
        try {
            out.write((ControlProtocol.line(ControlProtocol.request(id, op, args)) + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw gone(e);
        }
        while (true) {
            JsonNode m = read();
            if (m == null) {
                throw new ControlFailure(AgentError.DAEMON_GONE, "the daemon stopped before it answered (a restart, a reboot, a crash); "
                        + "'rsu-agent status' shows where the unit is");
            }
            if ("reply".equals(m.path("type").asText())) {
                if (!m.path("ok").asBoolean()) throw failure(m);
                List<String> lines = new ArrayList<>();
                m.path("lines").forEach(l -> lines.add(l.asText()));
                return new Reply(lines, m.path("result"));
            }
            onMessage.accept(m);
        }
    }

    private JsonNode read() throws ControlFailure {
        String line;
        try {
            line = ControlServer.readLine(in);
        } catch (IOException e) {
            return null;
        }
        if (line == null) return null;
        try {
            return ControlProtocol.JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new ControlFailure(AgentError.BAD_REQUEST, "the daemon sent a line that is not JSON: " + e.getOriginalMessage());
        }
    }

    private static ControlFailure failure(JsonNode reply) {
        JsonNode e = reply.path("error");
        return new ControlFailure(e.path("code").asText("DAEMON_GONE"), e.path("exit").asInt(AgentError.DAEMON_GONE.exit().code()),
                e.path("message").asText(""));
    }

    private ControlFailure gone(IOException e) {
        return new ControlFailure(AgentError.DAEMON_GONE, "the connection to the daemon at " + socket + " broke: " + e.getMessage());
    }

    private static void close(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing a socket that failed: nothing left to release
        }
    }

    @Override
    public void close() {
        close(channel);
    }
}
