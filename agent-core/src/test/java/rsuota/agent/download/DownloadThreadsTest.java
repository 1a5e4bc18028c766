package rsuota.agent.download;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import rsuota.hal.sched.ThreadPolicy;

/**
 * On the real kernel: with {@code download.cpuPolicy=idle} the download's own threads (fetch and read-back
 * workers, and for https:// the HTTP client's selector thread, which moves the bytes) are SCHED_IDLE, and the
 * thread that ordered the download is left as it was; with {@code normal} nothing changes. An http:// fetch
 * moves its bytes on the fetch worker itself and starts no thread.
 */
class DownloadThreadsTest {

    @AfterEach
    void backToTheDefault() {
        DownloadThreads.policy(DownloadThreads.Policy.IDLE);
    }

    /** tid -> (comm, policy) of this process's threads. */
    static Map<String, String[]> threads() throws IOException {
        Map<String, String[]> m = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    m.put(t.getFileName().toString(), new String[] {Files.readString(t.resolve("comm")).strip(), Integer.toString(ThreadPolicy.ofTask(t))});
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return m;
    }

    /** Policies of the threads named {@code prefix}* that appeared since {@code before}. */
    static java.util.List<String> newPolicies(Map<String, String[]> before, String prefix) throws IOException {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (var e : threads().entrySet()) {
            if (!before.containsKey(e.getKey()) && e.getValue()[0].startsWith(prefix)) out.add(e.getValue()[1]);
        }
        return out;
    }

    /** Policies of the HttpClient threads started since {@code before}, once one has started and named itself (not empty). */
    static java.util.List<String> selectorPolicies(Map<String, String[]> before) {
        return org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> newPolicies(before, "HttpClient-"), l -> !l.isEmpty());
    }

    int workerPolicy(String name) throws Exception {
        ExecutorService ex = Executors.newSingleThreadExecutor(DownloadThreads.factory(name));
        try {
            return ex.submit(ThreadPolicy::ofThisThread).get(10, TimeUnit.SECONDS);
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void theDownloadsWorkersAndItsHttpsSelectorRunSchedIdleAndTheCallerIsLeftAlone() throws Exception {
        assertThat(DownloadThreads.policy()).as("the default").isEqualTo(DownloadThreads.Policy.IDLE);
        assertThat(workerPolicy("rsu-fetch")).isEqualTo(ThreadPolicy.SCHED_IDLE);
        assertThat(workerPolicy("rsu-readback")).isEqualTo(ThreadPolicy.SCHED_IDLE);
        byte[] bundle = new byte[256 * 1024];
        new SplittableRandom(3).nextBytes(bundle);
        try (TimedRangeServer server = new TimedRangeServer(bundle)) {
            Map<String, String[]> before = threads();
            try (HttpBundleSource src = new HttpBundleSource(server.uri(), HttpBundleSource.Options.defaults())) {
                BundleSource.Fetched f = src.fetch(0, bundle.length, null, null);
                assertThat(f.length()).isEqualTo(bundle.length);
                assertThat(newPolicies(before, "HttpClient-")).as("http:// starts no client thread").isEmpty();
            }
        }
        Map<String, String[]> before = threads();
        try (JdkHttpClientTransport https = new JdkHttpClientTransport(HttpBundleSource.Options.defaults(), new java.util.concurrent.atomic.AtomicLong())) {
            assertThat(selectorPolicies(before)).as("the https client's selector thread")
                    .allMatch(p -> p.equals(Integer.toString(ThreadPolicy.SCHED_IDLE)));
        }
        assertThat(ThreadPolicy.ofThisThread()).as("the caller's own thread").isEqualTo(ThreadPolicy.SCHED_OTHER);
    }

    @Test
    void withPolicyNormalTheDownloadKeepsTheAgentsPriority() throws Exception {
        DownloadThreads.policy(DownloadThreads.Policy.NORMAL);
        assertThat(workerPolicy("rsu-fetch")).isEqualTo(ThreadPolicy.SCHED_OTHER);
        Map<String, String[]> before = threads();
        try (JdkHttpClientTransport https = new JdkHttpClientTransport(HttpBundleSource.Options.defaults(), new java.util.concurrent.atomic.AtomicLong())) {
            assertThat(selectorPolicies(before)).allMatch(p -> p.equals(Integer.toString(ThreadPolicy.SCHED_OTHER)));
        }
    }
}
