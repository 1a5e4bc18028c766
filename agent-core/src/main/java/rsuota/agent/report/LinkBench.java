package rsuota.agent.report;

import java.util.Locale;

import rsuota.wire.SlotState;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import rsuota.agent.link.LinkConfig;
import rsuota.agent.link.PahoMqttLink;
import rsuota.wire.MqttState;

/**
 * Benchmark body for {@code scripts/bench link}, against a broker that script starts:
 * <ol>
 *   <li>outbox throughput: N transitions emitted as fast as emit allows (each appended and
 *       fsync'd) while the publisher drains them over QoS 1; appended/s and appended+published/s;</li>
 *   <li>idle cost: connected, heartbeat every H seconds, nothing else, for S seconds; process CPU
 *       time and RSS (VmRSS/VmHWM from /proc/self/status).</li>
 * </ol>
 * Prints {@code key=value} lines. Usage:
 * {@code LinkBench --broker tcp://127.0.0.1:1883 --dir DIR [--device ID] [--events 2000]
 * [--idle-seconds 60] [--heartbeat-seconds 10]}
 */
public final class LinkBench {

    private LinkBench() {}

    public static void main(String[] args) throws Exception {
        String broker = null;
        Path dir = null;
        String device = "rsu-bench-1";
        int events = 2000;
        int idleSeconds = 60;
        int heartbeatSeconds = 10;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--broker" -> broker = args[i + 1];
                case "--dir" -> dir = Path.of(args[i + 1]);
                case "--device" -> device = args[i + 1];
                case "--events" -> events = Integer.parseInt(args[i + 1]);
                case "--idle-seconds" -> idleSeconds = Integer.parseInt(args[i + 1]);
                case "--heartbeat-seconds" -> heartbeatSeconds = Integer.parseInt(args[i + 1]);
                default -> usage("unknown option " + args[i]);
            }
        }
        if (broker == null || dir == null) usage("--broker and --dir are required");
        Files.createDirectories(dir);
        Clock clock = Clock.systemUTC();
        PahoMqttLink link = new PahoMqttLink(LinkConfig.device(broker, device), clock);
        Outbox outbox = Outbox.open(OutboxConfig.in(dir), device, clock);
        link.start();
        outbox.startPublishing(link);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!link.isConnected()) {
            if (System.nanoTime() > deadline) {
                System.err.println("LinkBench: no connection to " + broker + " within 30 s");
                System.exit(2);
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        System.out.println("broker=" + broker);
        System.out.println("window=" + link.publishWindow());

        long first = outbox.lastSeq() + 1;
        long t0 = System.nanoTime();
        for (int i = 0; i < events; i++) {
            outbox.emit(EventSink.Draft.transition("bench", "1.0.0", null, Map.of("i", Integer.toString(i))));
        }
        long tAppended = System.nanoTime();
        boolean drained = outbox.awaitAcked(first + events - 1, Duration.ofMinutes(5));
        long tPublished = System.nanoTime();
        System.out.println("events=" + events);
        System.out.println("drained=" + drained);
        System.out.printf(Locale.US, "appended_per_s=%.0f%n", events / seconds(tAppended - t0));
        System.out.printf(Locale.US, "appended_and_published_per_s=%.0f%n", events / seconds(tPublished - t0));
        System.out.printf(Locale.US, "append_fsync_ms_avg=%.3f%n", seconds(tAppended - t0) * 1000 / events);

        System.gc();
        Reporter reporter = new Reporter(link, device, LinkBench::snapshot, outbox::lastSeq, clock, Duration.ofSeconds(heartbeatSeconds));
        reporter.start();
        long cpu0 = processCpuNanos();
        long w0 = System.nanoTime();
        TimeUnit.SECONDS.sleep(idleSeconds);
        long cpu1 = processCpuNanos();
        long w1 = System.nanoTime();
        System.out.println("idle_seconds=" + idleSeconds);
        System.out.println("heartbeat_seconds=" + heartbeatSeconds);
        System.out.println("heartbeats_acked=" + reporter.publishedCount());
        System.out.printf(Locale.US, "idle_cpu_ms=%.1f%n", (cpu1 - cpu0) / 1e6);
        System.out.printf(Locale.US, "idle_cpu_percent=%.3f%n", 100.0 * (cpu1 - cpu0) / (w1 - w0));
        System.out.println("rss_kib=" + procStatus("VmRSS"));
        System.out.println("peak_rss_kib=" + procStatus("VmHWM"));
        System.out.println("heap_max_mib=" + Runtime.getRuntime().maxMemory() / (1024 * 1024));
        reporter.close();
        outbox.close();
        link.stop();
    }

    private static MqttState snapshot() {
        return new MqttState(MqttState.SCHEMA, "bench", new MqttState.Identity("bench", "lab", null, null, List.of()),
                Map.of("baseImage", "bench", "app", "1.0.0", "agent", "0.1.0"),
                List.of(new MqttState.Slot("A", SlotState.GOOD.wire(), "1.0.0", true), new MqttState.Slot("B", SlotState.EMPTY.wire(), null, false)),
                new MqttState.Deployment(rsuota.wire.DeploymentState.IDLE.wire(), null, 0, 0, 0, null), null, null, Instant.EPOCH, 0);
    }

    private static double seconds(long nanos) {
        return Math.max(1, nanos) / 1e9;
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
    }

    /** A kB value from /proc/self/status, or -1 off Linux. */
    private static long procStatus(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private static void usage(String why) {
        System.err.println("LinkBench: " + why);
        System.err.println("usage: LinkBench --broker tcp://127.0.0.1:PORT --dir DIR [--device ID] [--events N] "
                + "[--idle-seconds S] [--heartbeat-seconds H]");
        System.exit(2);
    }
}
