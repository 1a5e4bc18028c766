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
        AtomicReference<String> fromChrt = new AtomicReference<>();
        Thread t = new Thread(() -> {
            problem.set(ThreadPolicy.idleThisThread());
            own.set(ThreadPolicy.ofThisThread());
            try {
                fromProc.set(ThreadPolicy.ofTask(Path.of("/proc/thread-self")));
                // The kernel's own answer (sched_getscheduler), through chrt's query form.
                Process q = new ProcessBuilder("chrt", "-p", Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString())
                        .redirectErrorStream(true).start();
                fromChrt.set(new String(q.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
                q.waitFor();
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
        assertThat(fromChrt.get()).contains("SCHED_IDLE");
        assertThat(child.get()).as("inherited by threads it starts").isEqualTo(ThreadPolicy.SCHED_IDLE);
        // The test's own thread was not touched.
        assertThat(ThreadPolicy.ofThisThread()).isEqualTo(ThreadPolicy.SCHED_OTHER);
        assertThat(ThreadPolicy.ofTask(Path.of("/proc/thread-self"))).isEqualTo(ThreadPolicy.SCHED_OTHER);
        assertThat(Files.exists(Path.of("/proc/self/task"))).isTrue();
    }

    @Test
    void makingAThreadIdleTwiceSucceedsBothTimes() throws Exception {
        AtomicReference<String> first = new AtomicReference<>("not run");
        AtomicReference<String> second = new AtomicReference<>("not run");
        Thread t = new Thread(() -> {
            first.set(ThreadPolicy.idleThisThread());
            second.set(ThreadPolicy.idleThisThread());
        }, "idle-twice");
        t.start();
        t.join();
        assertThat(first.get()).isNull();
        assertThat(second.get()).isNull();
    }
}
