package rsuota.hal.power;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.hal.exec.ExternalCommand;

/**
 * Reboots through systemd: {@code systemctl reboot} by default, so services stop in order and the
 * agent's state and journals are flushed by the normal shutdown. On success the call returns
 * while systemd is taking the system down; the caller just waits to be stopped.
 *
 * <p>Fails with an {@link IOException} carrying the command, exit code and stderr when the command
 * cannot start, exits non-zero (e.g. missing polkit permission) or does not return in time.
 */
public final class SystemctlReboot implements Reboot {

    public static final List<String> DEFAULT_COMMAND = List.of("systemctl", "reboot");

    /** systemctl only queues the job with PID 1; if it has not returned by then, it never will. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final Logger log = LoggerFactory.getLogger(SystemctlReboot.class);

    private final List<String> command;

    public SystemctlReboot() {
        this(DEFAULT_COMMAND);
    }

    /** @param command the program and its arguments, e.g. {@code ["systemctl", "reboot", "--no-wall"]} */
    public SystemctlReboot(List<String> command) {
        if (command.isEmpty()) throw new IllegalArgumentException("reboot command must not be empty");
        this.command = List.copyOf(command);
    }

    @Override
    public void reboot(String reason) throws IOException {
        log.info("rebooting ({}): {}", reason, command);
        ExternalCommand.Result r;
        try {
            r = ExternalCommand.run(command, TIMEOUT);
        } catch (IOException e) {
            throw new IOException("reboot (" + reason + "): " + e.getMessage(), e);
        }
        if (r.exitCode() != 0) {
            throw new IOException("reboot (" + reason + "): " + String.join(" ", command) + " exited "
                    + r.exitCode() + ": " + r.stderrForMessage());
        }
    }
}
