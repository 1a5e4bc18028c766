package rsuota.packaging;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a Debian or systemd tool the way an administrator would, and keeps everything it printed. */
final class Command {

    /** dpkg, lintian and systemd-analyze finish in seconds here; this only catches a hang. */
    static final Duration TIMEOUT = Duration.ofMinutes(3);

    record Result(List<String> argv, int exit, String out, String err) {
        /** This result, or an AssertionError showing the command, its exit code and its output. */
        Result ok() {
            if (exit != 0) throw new AssertionError("expected exit 0: " + this);
            return this;
        }

        @Override
        public String toString() {
            return String.join(" ", argv) + " -> exit " + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    private Command() {
    }

    static Result run(String... argv) {
        return run(List.of(argv), Map.of());
    }

    static Result run(List<String> argv, Map<String, String> env) {
        try {
            Path out = Files.createTempFile("pkg-cmd-", ".out");
            Path err = Files.createTempFile("pkg-cmd-", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                pb.environment().putAll(env);
                Process p = pb.start();
                if (!p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("timed out after " + TIMEOUT + ": " + String.join(" ", argv));
                }
                return new Result(List.copyOf(argv), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + argv, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: " + argv, e);
        }
    }

    static boolean available(String tool) {
        return run("sh", "-c", "command -v " + tool).exit() == 0;
    }

    static boolean root() {
        return "0".equals(run("id", "-u").ok().out().trim());
    }
}
