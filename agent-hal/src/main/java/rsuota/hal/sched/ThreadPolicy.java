package rsuota.hal.sched;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Linux scheduling policy of the calling thread. Bulk work that must not disturb the unit's own
 * services (a download, its hashing and read-back) runs on threads made {@code SCHED_IDLE}: the kernel
 * runs them only on CPU time nothing else wants and preempts them at once when a normal thread wakes.
 * {@code Nice=10} alone does not do that: under EEVDF a niced thread keeps the CPU until its slice ends,
 * so a roadside service that wakes meanwhile waits (docs/benchmarks.md, "Good neighbour").
 *
 * <p>Lowering one's own policy needs no privilege, but an unprivileged thread cannot go back
 * ({@code RLIMIT_NICE}), so only threads that end with their work are made idle; threads they start
 * inherit it. Where libc cannot be reached (JNA without a native stub for the CPU) nothing changes
 * and {@link #idleThisThread()} says why.
 */
public final class ThreadPolicy {
    private static final Logger log = LoggerFactory.getLogger(ThreadPolicy.class);
    public static final int SCHED_OTHER = 0;
    public static final int SCHED_BATCH = 3;
    public static final int SCHED_IDLE = 5;

    private static volatile LibC libc;
    private static volatile String unavailable;

    private ThreadPolicy() {}

    /** Makes the calling thread (and the threads it starts from now on) SCHED_IDLE; null when done, else why not. */
    public static String idleThisThread() {
        LibC c = libc();
        if (c == null) return unavailable;
        try {
            c.sched_setscheduler(0, SCHED_IDLE, new int[] {0});
            return null;
        } catch (LastErrorException e) {
            return "sched_setscheduler(SCHED_IDLE) failed: errno " + e.getErrorCode();
        }
    }

    /** The policy of the calling thread as the kernel reports it (sched_getscheduler), or -1 when libc is unreachable. */
    public static int ofThisThread() {
        LibC c = libc();
        if (c == null) return -1;
        return c.sched_getscheduler(0);
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

    private static LibC libc() {
        LibC c = libc;
        if (c != null || unavailable != null) return c;
        synchronized (ThreadPolicy.class) {
            if (libc == null && unavailable == null) {
                try {
                    libc = Native.load("c", LibC.class);
                } catch (UnsatisfiedLinkError e) {
                    unavailable = "cannot load libc through JNA (" + e.getMessage() + ")";
                    log.warn("thread scheduling policy unchanged: {}", unavailable);
                }
            }
            return libc;
        }
    }

    interface LibC extends Library {
        /** struct sched_param is one int (sched_priority, 0 for SCHED_IDLE/OTHER/BATCH). */
        int sched_setscheduler(int pid, int policy, int[] param) throws LastErrorException;

        int sched_getscheduler(int pid) throws LastErrorException;
    }
}
