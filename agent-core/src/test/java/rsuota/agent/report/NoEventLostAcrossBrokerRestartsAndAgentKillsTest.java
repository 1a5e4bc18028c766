package rsuota.agent.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.link.Backoff;
import rsuota.agent.link.LinkConfig;
import rsuota.agent.link.MqttLink;
import rsuota.agent.link.PahoMqttLink;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.fixtures.net.FaultProxy;
import rsuota.wire.MqttEvent;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;
import rsuota.wire.WireException;

/**
 * Nothing a box reports is lost to a broker outage or a reboot. A device
 * emits transitions while the broker is restarted 20 times and the agent is killed 6 times (5
 * in-process crashes and one SIGKILL of an agent JVM); the receiver must see every seq, in order,
 * exactly once after dropping duplicates by seq.
 *
 * <p>How the outages are made: the device reaches the broker through a {@link FaultProxy}. Each
 * round cuts the device off (connections reset mid-flight, new ones refused), restarts the real
 * Mosquitto, waits until the receiver has resubscribed, and lets the device back in. The test
 * broker runs without persistence, so a restart also forgets messages it had acknowledged but not
 * yet forwarded; that loss would be the broker's, not the device's, so before each restart the
 * test waits until the receiver has everything the broker acknowledged to the device. Events the
 * device had in flight at the cut are exactly what the outbox must re-send.
 */
class NoEventLostAcrossBrokerRestartsAndAgentKillsTest {

    static final String DEV = "rsu-durable-1";
    static final int ROUNDS = 20;
    static final int PER_PHASE = 5;
    static final int CHILD_EVENTS = 100;
    static final Set<Integer> KILL_AFTER_ROUND = Set.of(2, 6, 10, 14, 17);
    static final int CHILD_AFTER_ROUND = 8;
    static final String CHILD = "child-";
    static final Backoff FAST = new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), 2.0, 0.5);

    @TempDir
    Path tmp;

    /** Everything the receiver got, in arrival order, duplicates included. */
    private final List<MqttEvent> received = new ArrayList<>();
    private final AtomicInteger receiverConnects = new AtomicInteger();

    private final class Agent {
        final PahoMqttLink link;
        final Outbox outbox;

        Agent(String brokerUri, Path dir) throws IOException {
            outbox = Outbox.open(OutboxConfig.in(dir).withBatchSize(7).withCompactEvery(25), DEV, Clock.systemUTC());
            link = new PahoMqttLink(LinkConfig.device(brokerUri, DEV).withBackoff(FAST)
                    .withPublishTimeout(Duration.ofSeconds(5)), Clock.systemUTC());
            link.start();
            outbox.startPublishing(link);
        }

        /** A crash: the socket is dropped without DISCONNECT, threads stop, nothing is written. */
        void kill() {
            link.halt();
            outbox.close();
        }
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void everySeqArrivesExactlyOnceInOrder() throws Exception {
        Path outboxDir = tmp.resolve("outbox");
        List<String> emitted = new ArrayList<>();
        int restarts = 0;
        int kills = 0;
        try (MosquittoBroker broker = MosquittoBroker.plain();
             FaultProxy proxy = FaultProxy.start(broker.port());
             PahoMqttLink receiver = new PahoMqttLink(LinkConfig.controller(broker.uri(), "controller").withBackoff(FAST), Clock.systemUTC())) {
            receiver.subscribe(Topics.events(DEV), (topic, payload, retained) -> {
                synchronized (received) {
                    received.add(decode(payload));
                }
            });
            receiver.addConnectionListener(new MqttLink.ConnectionListener() {
                @Override
                public void connected(int window) {
                    receiverConnects.incrementAndGet();
                }
            });
            receiver.start();
            await().atMost(10, TimeUnit.SECONDS).until(receiver::isConnected);
            String deviceUri = "tcp://127.0.0.1:" + proxy.port();

            Agent agent = new Agent(deviceUri, outboxDir);
            for (int round = 0; round < ROUNDS; round++) {
                Agent now = agent;
                await().atMost(60, TimeUnit.SECONDS).until(now.link::isConnected);
                emit(agent, emitted, "connected-" + round);            // published as they come
                proxy.partition();                                      // in-flight events cut off
                emit(agent, emitted, "cut-" + round);                   // only on disk now
                Agent a = agent;
                // Once the device saw the cut and resolved its batch, its ack pointer is final
                // until the heal; the receiver must have all of that before the broker forgets.
                await().atMost(60, TimeUnit.SECONDS).until(() -> !a.link.isConnected() && a.outbox.inflightCount() == 0
                        && maxReceivedSeq() >= a.outbox.ackedSeq());
                int connectsBefore = receiverConnects.get();
                broker.restart();
                restarts++;
                await().atMost(60, TimeUnit.SECONDS).until(() -> receiverConnects.get() > connectsBefore && receiver.isConnected());
                proxy.heal();
                emit(agent, emitted, "back-" + round);                  // while the device reconnects
                if (KILL_AFTER_ROUND.contains(round)) {
                    agent.kill();
                    kills++;
                    agent = new Agent(deviceUri, outboxDir);
                }
                if (round == CHILD_AFTER_ROUND) {
                    agent.kill();
                    kills++;
                    killedChild(deviceUri, outboxDir);
                    kills++;
                    agent = new Agent(deviceUri, outboxDir);
                }
            }
            Agent last = agent;
            await().atMost(60, TimeUnit.SECONDS).until(() -> last.outbox.ackedSeq() == last.outbox.lastSeq());
            long total = last.outbox.lastSeq();
            await().atMost(60, TimeUnit.SECONDS).until(() -> maxReceivedSeq() >= total);
            last.kill();

            List<MqttEvent> arrivals;
            synchronized (received) {
                arrivals = List.copyOf(received);
            }
            Map<Long, MqttEvent> firstBySeq = new LinkedHashMap<>();
            for (MqttEvent e : arrivals) firstBySeq.putIfAbsent(e.seq(), e);
            List<Long> order = new ArrayList<>(firstBySeq.keySet());

            assertThat(restarts).isEqualTo(ROUNDS);
            assertThat(kills).isEqualTo(7);
            assertThat(total).isGreaterThanOrEqualTo(ROUNDS * 3L * PER_PHASE);
            // Every seq from 1 to the last, each first seen in order: nothing lost, nothing reordered.
            assertThat(order).containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, total).boxed().toList());
            // And they are the events emitted: in-process ones in emit order, the child's as one run child-0..child-N.
            List<String> inProcess = firstBySeq.values().stream().map(e -> e.detail().get("label")).filter(s -> !s.startsWith(CHILD)).toList();
            assertThat(inProcess).containsExactlyElementsOf(emitted);
            List<String> child = firstBySeq.values().stream().map(e -> e.detail().get("label")).filter(s -> s.startsWith(CHILD)).toList();
            assertThat(child).isNotEmpty();
            for (int i = 0; i < child.size(); i++) assertThat(child.get(i)).isEqualTo(CHILD + i);
            Set<Long> distinct = new HashSet<>(order);
            System.out.printf("events=%d childEvents=%d arrivals=%d duplicatesDropped=%d restarts=%d kills=%d%n",
                    total, child.size(), arrivals.size(), arrivals.size() - distinct.size(), restarts, kills);
        }
    }

    private static void emit(Agent agent, List<String> emitted, String phase) throws IOException {
        for (int i = 0; i < PER_PHASE; i++) {
            String label = phase + "-" + i;
            agent.outbox.emit(EventSink.Draft.transition("downloading", null, null, Map.of("label", label)));
            emitted.add(label);
        }
    }

    /** Runs an agent JVM that emits and publishes, and SIGKILLs it once the receiver got some of its events. */
    private void killedChild(String brokerUri, Path outboxDir) throws Exception {
        Path out = tmp.resolve("child.log");
        long seenBefore = maxReceivedSeq();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                EmittingChild.class.getName(), brokerUri, outboxDir.toString(), DEV, Integer.toString(CHILD_EVENTS), CHILD)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile());
        Process child = pb.start();
        try {
            await().atMost(60, TimeUnit.SECONDS).until(() -> maxReceivedSeq() > seenBefore + 3 || !child.isAlive());
            assertThat(child.isAlive()).as("child still running at the kill; its log:%n%s", Files.exists(out) ? Files.readString(out) : "").isTrue();
        } finally {
            child.destroyForcibly(); // SIGKILL
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private long maxReceivedSeq() {
        synchronized (received) {
            long max = 0;
            for (MqttEvent e : received) max = Math.max(max, e.seq());
            return max;
        }
    }

    private static MqttEvent decode(byte[] payload) {
        try {
            return WireCodec.decode(payload, MqttEvent.class);
        } catch (WireException e) {
            throw new AssertionError("receiver got an invalid event: " + e.getMessage(), e);
        }
    }
}
