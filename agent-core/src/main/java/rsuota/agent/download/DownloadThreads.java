package rsuota.agent.download;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.hal.sched.ThreadPolicy;

/**
 * The threads a download works on: the fetch and read-back workers (an http:// fetch moves its bytes on the
 * fetch worker itself) and, for https://, the JDK HTTP client's selector.
 * With {@code download.cpuPolicy=idle} (the default) each is made {@code SCHED_IDLE} before its first
 * step ({@link ThreadPolicy}), so the roadside services preempt it at once; {@code normal} leaves them at
 * the agent's own priority (Nice=10), for a box whose services keep the CPU busy all day and would
 * otherwise starve the download. One setting for the process, like the unit's Nice=: the daemon sets it
 * from its configuration at start ({@link #policy}).
 */
public final class DownloadThreads {
    private static final Logger log = LoggerFactory.getLogger(DownloadThreads.class);

    /** {@code download.cpuPolicy}. */
    public enum Policy {
        IDLE, NORMAL;

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static volatile Policy policy = Policy.IDLE;
    private static volatile boolean warned;

    private DownloadThreads() {}

    public static void policy(Policy p) {
        policy = p;
    }

    public static Policy policy() {
        return policy;
    }

    /** Daemon threads named {@code name} that take the download policy before their first task (also the commit-time index). */
    public static ThreadFactory factory(String name) {
        return r -> {
            Thread t = new Thread(() -> {
                apply();
                r.run();
            }, name);
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Builds {@code what} on a short-lived thread that took the download policy, so the threads it starts
     * (the https:// client's selector) inherit it.
     */
    static <T> T buildWithPolicy(Supplier<T> what) {
        if (policy != Policy.IDLE) return what.get();
        AtomicReference<T> built = new AtomicReference<>();
        AtomicReference<RuntimeException> failed = new AtomicReference<>();
        Thread t = new Thread(() -> {
            apply();
            try {
                built.set(what.get());
            } catch (RuntimeException e) {
                failed.set(e);
            }
        }, "rsu-fetch-setup");
        t.setDaemon(true);
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // building a client takes milliseconds: finish, then keep the interrupt
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (failed.get() != null) throw failed.get();
        return built.get();
    }

    private static void apply() {
        if (policy != Policy.IDLE) return;
        String problem = ThreadPolicy.idleThisThread();
        if (problem != null && !warned) {
            warned = true;
            log.warn("download threads keep the agent's priority: {}", problem);
        }
    }
}
