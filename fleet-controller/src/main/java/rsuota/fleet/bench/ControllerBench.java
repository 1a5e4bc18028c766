package rsuota.fleet.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import rsuota.wire.MqttState;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;

/**
 * The body of {@code scripts/bench controller}: N simulated devices report state every interval
 * through a broker to a running controller (a separate process, so its CPU and RSS are its own).
 * After a warm-up, every device starts reporting availability 0.5; the bench waits for the pause
 * and prints key=value lines: messages/s absorbed, controller CPU and RSS, and the time from the
 * rule's sustained duration ending to the pause being recorded.
 *
 * <p>Devices are simulated on a few MQTT connections (a test broker without ACLs lets one
 * connection publish for many device topics): 10,000 real clients would measure the simulator.
 * Every loop is bounded by the device count and the deadlines below.
 */
public final class ControllerBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Publisher connections; each keeps at most WINDOW QoS 1 messages in flight (below Mosquitto's 20). */
    private static final int CONNECTIONS = 16;
    private static final int WINDOW = 16;

    private ControllerBench() {}

    /**
     * @param pids every replica's process (CPU and RSS are summed); {@code apis} every replica's URL (messages absorbed are summed),
     *             the first one also takes the bench's API calls
     */
    record Args(String api, String token, String broker, int devices, int intervalS, int warmupS, List<Long> pids, Path bundle, int sustainedS,
                List<String> apis) {}

    public static void main(String[] argv) throws Exception {
        rsuota.fleet.cli.Logging.configure();
        Map<String, String> a = new java.util.HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) a.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
        Args args = new Args(a.get("api"), a.get("token"), a.get("broker"), Integer.parseInt(a.getOrDefault("devices", "10000")),
                Integer.parseInt(a.getOrDefault("interval", "10")), Integer.parseInt(a.getOrDefault("warmup", "40")),
                java.util.Arrays.stream(a.get("controller-pid").split(",")).map(Long::parseLong).toList(), Path.of(a.get("bundle")),
                Integer.parseInt(a.getOrDefault("sustained", "30")), List.of(a.getOrDefault("apis", a.get("api")).split(",")));
        run(args);
    }

    static void run(Args args) throws Exception {
        List<MqttAsyncClient> clients = new ArrayList<>();
        List<Semaphore> windows = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS; i++) {
            MqttAsyncClient c = new MqttAsyncClient(args.broker(), "bench-sim-" + i, new MemoryPersistence());
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setCleanStart(true);
            c.connect(o).waitForCompletion(10_000);
            clients.add(c);
            windows.add(new Semaphore(WINDOW));
        }
        AtomicReference<Double> availability = new AtomicReference<>(0.999);
        AtomicLong published = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        String[] ids = new String[args.devices()];
        for (int i = 0; i < ids.length; i++) ids[i] = String.format("bench-%05d", i);

        // Reporter: every device once per interval, spread evenly over the interval.
        Thread reporter = new Thread(() -> {
            long periodNs = Duration.ofSeconds(args.intervalS()).toNanos();
            long start = System.nanoTime();
            for (long round = 0; !Thread.currentThread().isInterrupted(); round++) {
                for (int i = 0; i < ids.length; i++) {
                    long due = start + round * periodNs + periodNs * i / ids.length;
                    long wait = due - System.nanoTime();
                    if (wait > 0) java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    if (Thread.currentThread().isInterrupted()) return;
                    int k = i % CONNECTIONS;
                    publish(clients.get(k), windows.get(k), ids[i], availability.get(), published, failed);
                }
            }
        }, "bench-reporter");
        reporter.setDaemon(true);
        reporter.start();

        // Registration round, then release, cohort (all devices), rollout with a fast availability rule.
        long t0 = System.nanoTime();
        waitFor(Duration.ofSeconds(120), () -> devices(args) >= args.devices());
        double registerS = (System.nanoTime() - t0) / 1e9;
        JsonNode rel = post(args, "api/v1/releases", Map.of("bundle", args.bundle().toString(), "reason", "bench"));
        String version = rel.get("version").asText();
        long cohort = post(args, "api/v1/cohorts", Map.of("release", version, "name", "wave-bench", "kind", "wave",
                "filter", Map.of("corridor", "bench"), "reason", "bench")).get("cohort").get("id").asLong();
        Map<String, Object> rules = Map.of("version", 1, "window", args.intervalS() * 2 + "s", "rules", List.of(
                Map.of("rule", "availability-below", "threshold", 0.995, "sustained", args.sustainedS() + "s", "minDevices", Math.max(1, args.devices() / 2))));
        long rollout = post(args, "api/v1/rollouts", Map.of("release", version, "phases", List.of(Map.of("cohortId", cohort, "observation", "1h")),
                "rules", rules, "reason", "bench")).get("id").asLong();
        post(args, "api/v1/rollouts/" + rollout + "/start", Map.of("reason", "bench"));
        long[] cpu0 = cpu(args.pids());
        long msgs0 = stateMessages(args);
        long w0 = System.nanoTime();
        Thread.sleep(args.warmupS() * 1000L);
        long[] cpu1 = cpu(args.pids());
        long msgs1 = stateMessages(args);
        double steadyS = (System.nanoTime() - w0) / 1e9;
        long rssSteady = rssKiB(args.pids(), "VmRSS");
        JsonNode st = get(args, "api/v1/rollouts/" + rollout);
        int dispatched = st.get("phases").get(0).get("devices").size();

        Instant injected = Instant.now();
        availability.set(0.5);
        JsonNode pause = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(args.sustainedS() + args.intervalS() * 3L + 60).toNanos();
        while (System.nanoTime() < deadline) {
            // The rollouts page (state only), not the status of 100,000 units five times a second: the bench's own
            // polling would otherwise take a large share of the two cores it measures. The status once paused.
            JsonNode page = get(args, "api/v1/rollouts?release=" + version);
            boolean paused = false;
            for (JsonNode r : page.get("rollouts")) paused |= r.get("id").asLong() == rollout && r.get("state").asText().equals("paused");
            if (paused) {
                pause = get(args, "api/v1/rollouts/" + rollout).get("pauses").get(0);
                break;
            }
            Thread.sleep(200);
        }
        reporter.interrupt();
        long rssPeak = rssKiB(args.pids(), "VmHWM");
        for (MqttAsyncClient c : clients) {
            try {
                c.disconnect().waitForCompletion(5000);
                c.close();
            } catch (MqttException e) {
                System.err.println("bench: closing a simulator connection: " + e);
            }
        }
        double cpuS = ((cpu1[0] + cpu1[1]) - (cpu0[0] + cpu0[1])) / (double) cpu1[2];
        System.out.println("devices=" + args.devices());
        System.out.println("replicas=" + args.pids().size());
        System.out.println("report_interval_s=" + args.intervalS());
        System.out.println("registered_all_s=" + fmt(registerS));
        System.out.println("dispatched=" + dispatched);
        System.out.println("messages_published=" + published.get());
        System.out.println("publish_failures=" + failed.get());
        System.out.println("state_msgs_per_s_absorbed=" + fmt((msgs1 - msgs0) / steadyS));
        System.out.println("controller_cpu_percent_of_one_core=" + fmt(100 * cpuS / steadyS));
        System.out.println("controller_rss_mib_steady=" + fmt(rssSteady / 1024.0));
        System.out.println("controller_rss_mib_peak=" + fmt(rssPeak / 1024.0));
        if (pause == null) {
            System.out.println("pause_recorded=false");
            System.exit(1);
        }
        JsonNode f = pause.get("findings").get(0);
        Instant at = Instant.parse(pause.get("at").asText());
        Instant since = Instant.parse(f.get("breachSince").asText());
        Duration sustained = Duration.parse(f.get("sustained").asText());
        System.out.println("pause_recorded=true");
        System.out.println("rule=" + f.get("rule").asText() + " observed=" + fmt(f.get("observed").asDouble()) + " sample=" + f.get("sample").asInt());
        System.out.println("pause_latency_after_sustained_ms=" + Duration.between(since.plus(sustained), at).toMillis() + " target_ms<=1000");
        System.out.println("breach_detected_after_injection_ms=" + Duration.between(injected, since).toMillis());
        System.out.println("pause_after_injection_ms=" + Duration.between(injected, at).toMillis());
    }

    private static void publish(MqttAsyncClient c, Semaphore window, String id, double availability, AtomicLong ok, AtomicLong failed) {
        MqttState s = new MqttState(MqttState.SCHEMA, id, new MqttState.Identity("bench", "lab", "bench", null, List.of()),
                Map.of("baseImage", "1.0", "app", "1.0", "agent", "0.1.0"), List.of(), null, null,
                new MqttState.Kpis(availability, 300, 2000, 0.0001), Instant.now(), 0);
        MqttMessage m = new MqttMessage(WireCodec.encode(s));
        m.setQos(1);
        try {
            window.acquire();
            c.publish(Topics.state(id), m, null, new MqttActionListener() {
                public void onSuccess(IMqttToken t) {
                    window.release();
                    ok.incrementAndGet();
                }

                public void onFailure(IMqttToken t, Throwable e) {
                    window.release();
                    failed.incrementAndGet();
                }
            });
        } catch (MqttException e) {
            window.release();
            failed.incrementAndGet();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void waitFor(Duration max, Check c) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        while (!c.ok()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("bench: condition not reached within " + max);
            Thread.sleep(500);
        }
    }

    /** Registered devices, counted over every page of the device list (1000 a page). */
    private static int devices(Args a) throws Exception {
        int n = 0;
        String after = null;
        do {
            JsonNode page = get(a, "api/v1/devices?limit=1000" + (after == null ? "" : "&after=" + after));
            n += page.get("devices").size();
            after = page.hasNonNull("next") ? page.get("next").asText() : null;
        } while (after != null);
        return n;
    }

    /** State messages absorbed by all replicas together (each takes its share of the shared subscription). */
    private static long stateMessages(Args a) throws Exception {
        long n = 0;
        for (String api : a.apis()) {
            for (String line : send(a, HttpRequest.newBuilder(URI.create(api + "/metrics")).GET()).split("\n")) {
                if (line.startsWith("rsuota_mqtt_messages_total{kind=\"state\"}")) n += Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return n;
    }

    private static JsonNode get(Args a, String path) throws Exception {
        return JSON.readTree(send(a, HttpRequest.newBuilder(URI.create(a.api() + "/" + path)).GET()));
    }

    private static JsonNode post(Args a, String path, Object body) throws Exception {
        return JSON.readTree(send(a, HttpRequest.newBuilder(URI.create(a.api() + "/" + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))));
    }

    private static String send(Args a, HttpRequest.Builder b) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(b.header("Authorization", "Bearer " + a.token()).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) throw new IOException("bench: " + r.statusCode() + " " + r.body());
        return r.body();
    }

    /** utime, stime (clock ticks, summed over the processes) and ticks per second, from /proc. */
    private static long[] cpu(List<Long> pids) throws IOException {
        long u = 0;
        long s = 0;
        for (long pid : pids) {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            u += Long.parseLong(f[11]);
            s += Long.parseLong(f[12]);
        }
        return new long[] {u, s, 100};
    }

    /** One field of /proc/PID/status in KiB, summed over the processes. */
    private static long rssKiB(List<Long> pids, String field) throws IOException {
        long sum = 0;
        for (long pid : pids) {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith(field + ":")) sum += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return sum;
    }

    private static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, "%.1f", v);
    }
}
