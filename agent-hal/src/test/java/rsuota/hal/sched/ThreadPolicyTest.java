package rsuota.hal.sched;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** On the real kernel: a thread made idle is SCHED_IDLE as the kernel and /proc see it, and so are the threads it starts. */
class ThreadPolicyTest {

    @Test
    void aThreadMadeIdleIsSchedIdleAndTheThreadsItStartsInheritIt() throws Exception {
        AtomicReference<String> problem = new AtomicReference<>("not run");
        AtomicReference<Integer> own = new AtomicReference<>();
        AtomicReference<Integer> child = new AtomicReference<>();
        AtomicReference<Integer> fromProc = new AtomicReference<>();
        Thread t = new Thread(() -> {
            problem.set(ThreadPolicy.idleThisThread());
            own.set(ThreadPolicy.ofThisThread());
            try {
                fromProc.set(ThreadPolicy.ofTask(Path.of("/proc/thread-self")));
                Thread c = new Thread(() -> child.set(ThreadPolicy.ofThisThread()));
                c.start();
                c.join();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "idle-probe");
        t.start();
        t.join();
        assertThat(problem.get()).isNull();
        assertThat(own.get()).isEqualTo(ThreadPolicy.SCHED_IDLE);
        assertThat(fromProc.get()).isEqualTo(ThreadPolicy.SCHED_IDLE);
        assertThat(child.get()).as("inherited by threads it starts").isEqualTo(ThreadPolicy.SCHED_IDLE);
        // The test's own thread was not touched.
        assertThat(ThreadPolicy.ofThisThread()).isEqualTo(ThreadPolicy.SCHED_OTHER);
        assertThat(ThreadPolicy.ofTask(Path.of("/proc/thread-self"))).isEqualTo(ThreadPolicy.SCHED_OTHER);
        assertThat(Files.exists(Path.of("/proc/self/task"))).isTrue();
    }
}
