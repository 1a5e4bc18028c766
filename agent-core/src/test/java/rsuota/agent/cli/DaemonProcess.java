package rsuota.agent.cli;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import rsuota.agent.control.ControlClient;
import rsuota.agent.control.ControlFailure;

/**
 * A real {@code rsu-agent run} in a child JVM, as systemd runs it: started over a device's config,
 * ready once its control socket greets, and stopped with SIGTERM or killed with SIGKILL.
 */
final class DaemonProcess implements AutoCloseable {
    final Process process;
    final Path socket;
    final Path log;

    private DaemonProcess(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Starts the daemon over {@code conf} and waits until its control socket answers. */
    static DaemonProcess start(Path conf, Path socket, Path log) throws IOException {
        Process p = new ProcessBuilder(java(), "-cp", System.getProperty("java.class.path"), RsuAgent.class.getName(),
                "--config", conf.toString(), "run").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        DaemonProcess d = new DaemonProcess(p, socket, log);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (!p.isAlive()) throw new AssertionError("daemon exited " + p.exitValue() + ":\n" + Files.readString(log));
            return d.answers();
        });
        return d;
    }

    boolean answers() {
        try {
            Optional<ControlClient> c = ControlClient.connect(socket);
            c.ifPresent(ControlClient::close);
            return c.isPresent();
        } catch (ControlFailure f) {
            return false;
        }
    }

    /** SIGKILL: a power cut as far as the agent can tell. Leaves the socket file behind. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    String output() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM: the shutdown hook closes the daemon
            if (!process.waitFor(30, TimeUnit.SECONDS)) kill();
        }
    }
}
