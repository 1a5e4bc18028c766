package rsuota.hal.sched;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The Linux scheduling policy of the calling thread. Bulk work that must not disturb the unit's own
 * services (a download, its hashing and read-back) runs on threads made {@code SCHED_IDLE}: the kernel
 * runs them only on CPU time nothing else wants and preempts them at once when a normal thread wakes.
 * {@code Nice=10} alone does not do that: under EEVDF a niced thread keeps the CPU until its slice ends,
 * so a roadside service that wakes meanwhile waits (docs/benchmarks.md, "Good neighbour").
 *
 * <p>The thread is made idle by util-linux's {@code chrt --idle -p 0 TID} (util-linux is essential on Debian),
 * a few milliseconds per download thread. Not libc through JNA: loading JNA cost an install ~1.5 MiB of its
 * 64 MiB (docs/benchmarks.md, Install peak RSS). The policy is read back from {@code /proc/thread-self/stat}.
 *
 * <p>Lowering one's own policy needs no privilege, but an unprivileged thread cannot go back
 * ({@code RLIMIT_NICE}), so only threads that end with their work are made idle; threads they start
 * inherit it. Where chrt cannot run nothing changes and {@link #idleThisThread()} says why.
 */
public final class ThreadPolicy {
    public static final int SCHED_OTHER = 0;
    public static final int SCHED_BATCH = 3;
    public static final int SCHED_IDLE = 5;
    private static final String CHRT = Files.isExecutable(Path.of("/usr/bin/chrt")) ? "/usr/bin/chrt" : "chrt";
    private static final Path SELF = Path.of("/proc/thread-self");

    private ThreadPolicy() {}

    /** Makes the calling thread (and the threads it starts from now on) SCHED_IDLE; null when done, else why not. */
    public static String idleThisThread() {
        String tid;
        try {
            if (ofTask(SELF) == SCHED_IDLE) return null; // already (inherited from the thread that started it)
            tid = Files.readSymbolicLink(SELF).getFileName().toString();
        } catch (IOException | RuntimeException e) {
            return "cannot read " + SELF + ": " + e.getMessage();
        }
        try {
            Process p = new ProcessBuilder(CHRT, "--idle", "-p", "0", tid).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectErrorStream(true).start();
            // Waited for first, read after: a chrt that hung would otherwise block the read, not the timeout.
            // Its one line of output fits the pipe.
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return CHRT + " --idle -p 0 " + tid + " did not finish in 10 s";
            }
            if (p.exitValue() == 0) return null;
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return CHRT + " --idle -p 0 " + tid + " failed (exit " + p.exitValue() + "): " + out;
        } catch (IOException e) {
            return "cannot run " + CHRT + " (util-linux): " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while " + CHRT + " ran";
        }
    }

    /** The policy of the calling thread as the kernel reports it ({@code /proc/thread-self/stat}), or -1 when unreadable. */
    public static int ofThisThread() {
        try {
            return ofTask(SELF);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * The policy of one of this process's threads, read from {@code /proc/self/task/TID/stat} (field 41), for
     * checks from outside the thread (tests, diagnostics).
     */
    public static int ofTask(Path taskDir) throws IOException {
        String stat = Files.readString(taskDir.resolve("stat"), StandardCharsets.US_ASCII);
        // comm (field 2) is in parentheses and may hold spaces: count fields after its closing one.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return Integer.parseInt(f[41 - 3]);
    }
}
