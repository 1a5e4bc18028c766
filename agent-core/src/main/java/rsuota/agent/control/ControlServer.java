package rsuota.agent.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;

/**
 * The daemon's end of the control socket: a Unix domain stream socket (JDK channels), mode 0660 and
 * owned by the control group, one thread per connection. Each connection is checked against
 * {@link ControlAccess} with the kernel's peer credentials before anything is read; the daemon
 * then greets, reads one request and hands it to the {@link Handler}.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    /** Technicians on one unit: a handful of connections; more is a runaway script, refused. */
    static final int MAX_CONNECTIONS = 16;
    /** How long close() lets handlers finish their reply (a reboot's "rebooting" line). */
    private static final long CLOSE_GRACE_MS = 3000;

    /** What the daemon does with one request; throws ControlFailure for the CLI's error line. */
    public interface Handler {
        void handle(Call call) throws ControlFailure, IOException, InterruptedException;
    }

    private final Path socket;
    private final ServerSocketChannel server;
    private final ControlAccess access;
    private final String deviceId;
    private final Handler handler;
    private final Set<Thread> workers = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile boolean open = true;

    private ControlServer(Path socket, ServerSocketChannel server, ControlAccess access, String deviceId, Handler handler) {
        this.socket = socket;
        this.server = server;
        this.access = access;
        this.deviceId = deviceId;
        this.handler = handler;
        this.acceptor = new Thread(this::acceptLoop, "rsu-control-" + deviceId);
        acceptor.setDaemon(true);
    }

    /**
     * Binds {@code socket} (replacing a stale socket file a killed daemon left; refusing when another
     * daemon answers there or the path is not a socket), sets mode 0660 and the group, and starts accepting.
     */
    public static ControlServer start(Path socket, ControlAccess access, String deviceId, Handler handler) throws AgentException {
        try {
            Path dir = socket.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                // not made here: its owner, group and mode are the package's (tmpfiles.d: 2750 rsu-agent:rsu-tech)
                throw new AgentException(AgentError.BAD_CONFIG, "the control socket's directory " + dir
                        + " does not exist (the rsu-agent package makes /run/rsu-agent at boot: systemd-tmpfiles --create)");
            }
            if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                BasicFileAttributes a = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (!a.isOther()) {
                    throw new AgentException(AgentError.BAD_CONFIG, "control.socket " + socket + " exists and is not a socket; remove it or choose another path");
                }
                try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    throw new AgentException(AgentError.BAD_CONFIG, "another daemon answers on control.socket " + socket
                            + "; two units configured with one socket? give each its own control.socket");
                } catch (IOException stale) {
                    Files.delete(socket); // nobody listens: a killed daemon's leftover
                }
            }
            ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            ch.bind(UnixDomainSocketAddress.of(socket));
            // Until these two lines run the umask's mode applies, which never grants others write (connect).
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
            setGroup(socket, access.group());
            ControlServer s = new ControlServer(socket, ch, access, deviceId, handler);
            s.acceptor.start();
            log.info("control socket {} (root and group {})", socket, access.group());
            return s;
        } catch (IOException e) {
            throw new AgentException(AgentError.BAD_CONFIG, "cannot serve the control socket " + socket + ": " + e, e);
        }
    }

    /**
     * The packaged unit needs no chown: /run/rsu-agent is setgid rsu-tech (tmpfiles.d), so the socket
     * is born in that group. Elsewhere the daemon sets it, which needs root or membership; failing
     * that, the socket stays usable by root and the daemon's account only, and the log says so.
     */
    private static void setGroup(Path socket, String group) {
        try {
            GroupPrincipal g = FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
            PosixFileAttributeView view = Files.getFileAttributeView(socket, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (!view.readAttributes().group().equals(g)) view.setGroup(g);
        } catch (UserPrincipalNotFoundException e) {
            log.warn("group {} does not exist: only root can use the control socket {} (the rsu-agent package creates the group)", group, socket);
        } catch (IOException e) {
            log.warn("cannot give the control socket {} the group {} ({}): make its directory setgid {} or the daemon's account a member",
                    socket, group, e.toString(), group);
        }
    }

    public Path socket() {
        return socket;
    }

    private void acceptLoop() {
        while (open) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (open) log.warn("control socket accept failed: {}", e.toString());
                return;
            }
            if (workers.size() >= MAX_CONNECTIONS) {
                refuse(c, null, new ControlFailure(AgentError.BAD_REQUEST, "too many control connections (" + MAX_CONNECTIONS + ") at once; try again"));
                continue;
            }
            Thread t = new Thread(() -> serve(c), "rsu-control-conn");
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    private void serve(SocketChannel c) {
        try (c) {
            UnixDomainPrincipal cred = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
            Peer peer = new Peer(cred.user().getName(), cred.group().getName());
            var refusal = access.refusal(peer);
            if (refusal.isPresent()) {
                log.warn("control socket: refused {} ({})", peer.user(), refusal.get());
                refuse(c, null, new ControlFailure(AgentError.PERMISSION_DENIED, refusal.get()));
                return;
            }
            OutputStream out = Channels.newOutputStream(c);
            InputStream in = Channels.newInputStream(c);
            var hello = ControlProtocol.message("hello", null);
            hello.put("device", deviceId);
            hello.put("user", peer.user());
            out.write((ControlProtocol.line(hello) + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            ControlProtocol.Request req;
            try {
                String line = readLine(in);
                if (line == null) return;
                req = ControlProtocol.parseRequest(line);
            } catch (ControlFailure f) {
                refuse(c, null, f); // inside the try-with-resources: the channel is still open
                return;
            }
            peer = onBehalf(peer, req.arg(ON_BEHALF_OF));
            Call call = new Call(peer, req, out, () -> open);
            try {
                handler.handle(call);
                if (!call.replied()) call.reply(java.util.List.of(), null);
            } catch (ControlFailure f) {
                call.send(ControlProtocol.error(req.id(), f));
            }
        } catch (IOException e) {
            // the client went away (Ctrl-C detaches) or the daemon is closing: nothing to answer
            log.debug("control connection ended: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("control request failed", e);
        } finally {
            workers.remove(Thread.currentThread());
        }
    }

    /** Request argument naming the technician a launcher acts for (sudo: the packaged launcher runs as the service account). */
    public static final String ON_BEHALF_OF = "onBehalfOf";
    private static final java.util.regex.Pattern UNIX_USER = java.util.regex.Pattern.compile("[a-z_][a-z0-9_.-]{0,31}");

    /**
     * The technician a privileged peer acts for: root, or the daemon's own account (which the
     * packaged launcher switches to under sudo), may name the user it acts for, and that user is
     * then the actor reported upstream. Anyone else's claim is ignored: they are who the kernel
     * says. Those two accounts can write the state directory anyway, so believing them gives
     * nothing away.
     */
    static Peer onBehalf(Peer peer, String claimed) {
        if (claimed == null || !UNIX_USER.matcher(claimed).matches()) return peer;
        boolean privileged = peer.user().equals("root") || peer.user().equals(System.getProperty("user.name"));
        return privileged ? new Peer(claimed, peer.group()) : peer;
    }

    /** A line of at most {@link ControlProtocol#MAX_LINE} bytes, or null at end of stream. */
    static String readLine(InputStream in) throws IOException, ControlFailure {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int ch;
        while ((ch = in.read()) >= 0) {
            if (ch == '\n') return b.toString(StandardCharsets.UTF_8);
            if (b.size() >= ControlProtocol.MAX_LINE) {
                throw new ControlFailure(AgentError.BAD_REQUEST, "a line longer than " + ControlProtocol.MAX_LINE + " bytes");
            }
            b.write(ch);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
    }

    /**
     * Answers with the refusal and closes. A Unix socket closed with unread bytes resets, and the
     * peer may lose the answer with them, so what the client still sends is read and dropped first,
     * for at most {@link #DRAIN_MS}.
     */
    private static void refuse(SocketChannel c, Long id, ControlFailure f) {
        try (c) {
            Channels.newOutputStream(c).write((ControlProtocol.line(ControlProtocol.error(id, f)) + "\n").getBytes(StandardCharsets.UTF_8));
            c.shutdownOutput();
            c.configureBlocking(false);
            java.nio.ByteBuffer sink = java.nio.ByteBuffer.allocate(64 * 1024);
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(DRAIN_MS);
            while (System.nanoTime() < deadline) {
                sink.clear();
                int n = c.read(sink);
                if (n < 0) break;
                if (n == 0) Thread.sleep(10);
            }
        } catch (IOException e) {
            log.debug("refusal not delivered: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long a refused client may go on sending before the socket closes under it. */
    static final long DRAIN_MS = 2000;

    /** Stops accepting, lets the handlers finish their replies briefly, removes the socket file. */
    @Override
    public void close() {
        open = false;
        try {
            server.close();
        } catch (IOException e) {
            log.debug("control socket close: {}", e.toString());
        }
        long deadline = System.currentTimeMillis() + CLOSE_GRACE_MS;
        for (Thread t : workers) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) break;
            try {
                t.join(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.debug("control socket file not removed: {}", e.toString());
        }
    }
}
