package rsuota.hal.watchdog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The Linux hardware watchdog device ({@code /dev/watchdog}). Opening it arms the timer; every
 * write kicks it; writing the magic character {@code 'V'} right before closing disarms it
 * ("magic close"), so a clean agent stop does not reset the box. A crash closes the device without
 * the 'V', the timer keeps running and the box resets: that is the point.
 *
 * <p>Kernels built with {@code CONFIG_WATCHDOG_NOWAYOUT} ignore the magic close; then the box resets
 * after an agent stop unless another process takes over the device. Only one process can hold the
 * device open: if systemd's {@code RuntimeWatchdogSec} owns it, use {@link SystemdNotifier} instead.
 *
 * <p>Everything fails with an {@link IOException} naming the device.
 */
public final class DevWatchdog implements Watchdog, AutoCloseable {

    public static final Path DEFAULT_DEVICE = Path.of("/dev/watchdog");

    /** Any byte but 'V' kicks; a 'V' would arm the magic close on drivers that scan every write. */
    private static final byte KICK = '1';
    private static final byte MAGIC_CLOSE = 'V';

    private final Path device;
    private final FileChannel channel;
    private boolean closed;

    private DevWatchdog(Path device, FileChannel channel) {
        this.device = device;
        this.channel = channel;
    }

    /**
     * Opens (and so arms) the device. No CREATE and no TRUNCATE: a device node must already exist,
     * and a mistyped path must fail rather than create a plain file nobody watches.
     */
    public static DevWatchdog open(Path device) throws IOException {
        try {
            return new DevWatchdog(device, FileChannel.open(device, StandardOpenOption.WRITE));
        } catch (NoSuchFileException e) {
            throw new IOException("watchdog device " + device + " does not exist (is the watchdog driver loaded?)", e);
        } catch (IOException e) {
            throw new IOException("cannot open watchdog device " + device + ": " + e.getMessage()
                    + " (only one process may hold it; is systemd's RuntimeWatchdogSec or another daemon using it?)", e);
        }
    }

    @Override
    public synchronized void kick() throws IOException {
        write(KICK, "kick");
    }

    @Override
    public String describe() {
        return "watchdog device " + device;
    }

    /** Magic close: disarms the timer, then closes. Closing twice is harmless. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) return;
        try {
            write(MAGIC_CLOSE, "magic close");
        } finally {
            closed = true;
            channel.close();
        }
    }

    private void write(byte b, String what) throws IOException {
        if (closed) throw new IOException("watchdog device " + device + " is already closed (" + what + ")");
        try {
            int n = channel.write(ByteBuffer.wrap(new byte[] {b}));
            if (n != 1) throw new IOException("wrote " + n + " bytes");
        } catch (IOException e) {
            throw new IOException("watchdog device " + device + ": " + what + " failed: " + e.getMessage(), e);
        }
    }
}
