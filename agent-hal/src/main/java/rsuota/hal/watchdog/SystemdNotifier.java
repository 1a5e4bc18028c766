package rsuota.hal.watchdog;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sd_notify protocol: one datagram per message to the Unix socket named in {@code NOTIFY_SOCKET}
 * ({@code READY=1}, {@code WATCHDOG=1}, {@code STATUS=...}). This is exactly what libsystemd's
 * {@code sd_notify(0, ...)} does; it is done here through JNA and libc ({@code socket}, {@code sendto})
 * because the JDK cannot send to a datagram Unix socket (FIELD-NOTES) and because an explicit socket
 * path lets the tests point it at their own socket instead of mutating the process environment.
 *
 * <p>Without {@code NOTIFY_SOCKET} (not started by systemd, or {@code Type=simple}) every call is a
 * no-op, as with sd_notify. If libc cannot be loaded through JNA (no native JNA stub for this CPU,
 * or a noexec temp dir), the notifier becomes a no-op and says so once in the log: the agent keeps
 * working, and a {@code Type=notify} unit then times out at start, which points at that log line.
 *
 * <p>Sending fails with an {@link IOException} carrying errno's text (e.g. the socket does not exist).
 */
public final class SystemdNotifier implements Watchdog {

    public static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";
    public static final String WATCHDOG_USEC = "WATCHDOG_USEC";
    public static final String WATCHDOG_PID = "WATCHDOG_PID";

    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);

    // Linux values on x86, ARM and most others (MIPS differs, and no RSU here runs MIPS).
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int MSG_NOSIGNAL = 0x4000;
    /** sizeof(sun_path) on Linux. */
    private static final int SUN_PATH_MAX = 108;

    /** libc, bound on first use; null when JNA cannot load it. */
    private static volatile LibC libc;
    private static volatile boolean libcFailed;

    private final String socket;

    /**
     * @param socket the notify socket: a file system path, or "@name" for an abstract socket; null
     *               or empty makes this notifier a no-op
     */
    public SystemdNotifier(String socket) {
        this.socket = socket == null || socket.isEmpty() ? null : socket;
        if (this.socket != null && this.socket.length() > SUN_PATH_MAX - 1) {
            throw new IllegalArgumentException("notify socket path is longer than " + (SUN_PATH_MAX - 1) + " bytes: " + socket);
        }
    }

    /** The notifier systemd asked for through {@code NOTIFY_SOCKET}; a no-op when it is unset. */
    public static SystemdNotifier fromEnvironment() {
        return new SystemdNotifier(System.getenv(NOTIFY_SOCKET));
    }

    /** True when messages go somewhere (a socket is set and libc is usable). */
    public boolean enabled() {
        return socket != null && libc() != null;
    }

    /** Tells systemd the agent finished starting ({@code Type=notify} units wait for this). */
    public void ready() throws IOException {
        send("READY=1");
    }

    /** One line shown by {@code systemctl status}. Newlines are replaced: they would start a new assignment. */
    public void status(String text) throws IOException {
        send("STATUS=" + text.replace('\n', ' '));
    }

    /** {@code WATCHDOG=1}: proves liveness to systemd's service watchdog. */
    @Override
    public void kick() throws IOException {
        send("WATCHDOG=1");
    }

    @Override
    public void stalled(String why) throws IOException {
        status(why);
    }

    @Override
    public String describe() {
        return socket == null ? "systemd notify (disabled: no " + NOTIFY_SOCKET + ")" : "systemd notify socket " + socket;
    }

    /**
     * Sends one datagram of newline-separated assignments, e.g. {@code "READY=1\nSTATUS=up"}.
     * Returns false when this notifier is a no-op.
     */
    public boolean send(String message) throws IOException {
        if (socket == null) return false;
        LibC c = libc();
        if (c == null) return false;
        byte[] path = socket.getBytes(StandardCharsets.UTF_8);
        if (path.length > SUN_PATH_MAX - 1) throw new IOException("notify socket path too long: " + socket);
        boolean abstractName = path[0] == '@';
        // struct sockaddr_un { sa_family_t sun_family (host byte order); char sun_path[108]; }, built as
        // bytes so no JNA Structure (which needs a public class) leaks into this package's API.
        ByteBuffer addr = ByteBuffer.allocate(2 + SUN_PATH_MAX).order(ByteOrder.nativeOrder());
        addr.putShort((short) AF_UNIX).put(path);
        // "@name" is the abstract namespace: a leading NUL byte, and the length counts no terminator.
        if (abstractName) addr.put(2, (byte) 0);
        int addrLen = 2 + path.length + (abstractName ? 0 : 1);
        byte[] payload = message.getBytes(StandardCharsets.UTF_8);
        int fd;
        try {
            fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw new IOException("sd_notify: socket(AF_UNIX, SOCK_DGRAM) failed: " + strerror(e), e);
        }
        try {
            long sent = c.sendto(fd, payload, new NativeLong(payload.length), MSG_NOSIGNAL, addr.array(), addrLen).longValue();
            if (sent != payload.length) {
                throw new IOException("sd_notify: sent " + sent + " of " + payload.length + " bytes to " + socket);
            }
        } catch (LastErrorException e) {
            throw new IOException("sd_notify: sending '" + firstLine(message) + "' to " + socket + " failed: " + strerror(e)
                    + " (is the agent running under systemd with NotifyAccess=main?)", e);
        } finally {
            try {
                c.close(fd);
            } catch (LastErrorException e) {
                // A close error on a datagram socket loses nothing: the datagram was already queued or reported.
                log.debug("sd_notify: close({}) failed: {}", fd, strerror(e));
            }
        }
        return true;
    }

    /**
     * The watchdog timeout systemd set for this process ({@code WATCHDOG_USEC}), or empty when the
     * service watchdog is off or the variables were meant for another process ({@code WATCHDOG_PID}).
     * Throws {@link IllegalArgumentException} when {@code WATCHDOG_USEC} is not a positive integer.
     */
    public static Optional<Duration> watchdogTimeout(Map<String, String> env) {
        String usec = env.get(WATCHDOG_USEC);
        if (usec == null || usec.isEmpty()) return Optional.empty();
        String pid = env.get(WATCHDOG_PID);
        if (pid != null && !pid.isEmpty() && !pid.equals(Long.toString(ProcessHandle.current().pid()))) {
            return Optional.empty(); // inherited from a parent that systemd watches, not us
        }
        long us;
        try {
            us = Long.parseLong(usec);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(WATCHDOG_USEC + "=" + usec + " is not a number of microseconds");
        }
        if (us <= 0) throw new IllegalArgumentException(WATCHDOG_USEC + "=" + usec + " must be positive");
        return Optional.of(Duration.ofNanos(Math.multiplyExact(us, 1000L)));
    }

    /**
     * How often to send {@code WATCHDOG=1}: half the timeout, as systemd recommends, so one late
     * ping never kills a healthy agent. Empty when the service watchdog is off.
     */
    public static Optional<Duration> watchdogInterval(Map<String, String> env) {
        return watchdogTimeout(env).map(t -> t.dividedBy(2));
    }

    private static String firstLine(String m) {
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl) + "...";
    }

    private static String strerror(LastErrorException e) {
        return e.getMessage() + " (errno " + e.getErrorCode() + ")";
    }

    private static LibC libc() {
        LibC c = libc;
        if (c != null || libcFailed) return c;
        synchronized (SystemdNotifier.class) {
            if (libc == null && !libcFailed) {
                try {
                    libc = Native.load("c", LibC.class);
                } catch (UnsatisfiedLinkError e) {
                    libcFailed = true;
                    log.warn("sd_notify disabled: cannot load libc through JNA ({}); systemd will not see READY=1 or WATCHDOG=1",
                            e.getMessage());
                }
            }
            return libc;
        }
    }

    /** The few libc calls sd_notify needs; {@link LastErrorException} carries errno. */
    interface LibC extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        // size_t/ssize_t are C longs on Linux (32-bit on armhf): NativeLong keeps the ABI right there too.
        NativeLong sendto(int fd, byte[] buf, NativeLong len, int flags, byte[] addr, int addrLen) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }
}
