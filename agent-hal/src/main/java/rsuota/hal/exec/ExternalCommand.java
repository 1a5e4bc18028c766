package rsuota.hal.exec;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a bootloader or system tool to completion with a time limit and returns its exit code and
 * output. Callers decide what a non-zero exit means and add their own context to the message.
 *
 * <p>Fails with {@link IOException} when the program cannot be started, does not finish within the
 * timeout (it is then killed), or the calling thread is interrupted (then killed too,
 * {@link InterruptedIOException}, interrupt flag restored).
 */
public final class ExternalCommand {

    /** What a finished command left behind; output is decoded as UTF-8 and not trimmed. */
    public record Result(int exitCode, String stdout, String stderr) {
        /** stderr without surrounding whitespace, or "(no output)" so messages never end in ": ". */
        public String stderrForMessage() {
            String s = stderr.strip();
            return s.isEmpty() ? "(no output)" : s;
        }
    }

    private static final File DEV_NULL = new File("/dev/null");

    private ExternalCommand() {}

    public static Result run(List<String> command, Duration timeout) throws IOException {
        // Output goes to files, not pipes: a tool that fills a pipe nobody reads would block and
        // then look like a timeout, and reading two pipes needs a thread per stream.
        Path out = Files.createTempFile("rsu-cmd-", ".out");
        Path err = Files.createTempFile("rsu-cmd-", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectInput(DEV_NULL)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            // The C locale keeps tool messages untranslated, so callers can recognise them.
            pb.environment().put("LC_ALL", "C");
            Process p = pb.start();
            boolean finished;
            try {
                finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for " + command);
            }
            if (!finished) {
                p.destroyForcibly();
                throw new IOException(command.get(0) + " did not finish within " + timeout.toMillis()
                        + " ms and was killed (command: " + command + ")");
            }
            // new String(...) replaces bytes that are not UTF-8 instead of failing on them.
            return new Result(p.exitValue(),
                    new String(Files.readAllBytes(out), StandardCharsets.UTF_8),
                    new String(Files.readAllBytes(err), StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
