package rsuota.agent.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.wire.MqttPresence;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;

class PahoMqttLinkTest {

    static final Backoff FAST = new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), 2.0, 0.5);

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
    }

    private <T extends AutoCloseable> T track(T c) {
        closeables.add(c);
        return c;
    }

    private PahoMqttLink link(LinkConfig config) {
        return track(new PahoMqttLink(config.withBackoff(FAST), Clock.systemUTC()));
    }

    @Test
    void windowIsTheBrokersReceiveMaximumAndABurstNeverOverflowsIt() throws Exception {
        MosquittoBroker broker = track(MosquittoBroker.start(new MosquittoBroker.Options(false, null, 5)));
        PahoMqttLink receiver = link(LinkConfig.controller(broker.uri(), "receiver"));
        Queue<String> got = new ConcurrentLinkedQueue<>();
        receiver.subscribe("burst/#", (t, p, r) -> got.add(new String(p, StandardCharsets.UTF_8)));
        receiver.start();
        PahoMqttLink sender = link(LinkConfig.controller(broker.uri(), "sender"));
        sender.start();
        await().atMost(10, TimeUnit.SECONDS).until(() -> sender.isConnected() && receiver.isConnected());
        assertThat(sender.publishWindow()).isEqualTo(5);

        // 500 publishes from 4 threads at once: 100 times the window, and none may fail.
        List<CompletableFuture<Void>> all = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int base = t * 125;
            Thread th = new Thread(() -> {
                for (int i = 0; i < 125; i++) {
                    CompletableFuture<Void> f = sender.publish("burst/x", ("m" + (base + i)).getBytes(StandardCharsets.UTF_8), false);
                    synchronized (all) {
                        all.add(f);
                    }
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) th.join(30_000);
        CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
        await().atMost(10, TimeUnit.SECONDS).until(() -> got.size() == 500);
        assertThat(got).doesNotHaveDuplicates();
    }

    @Test
    void firstConnectIsRetriedUntilTheBrokerComesUp() throws Exception {
        MosquittoBroker broker = track(MosquittoBroker.plain());
        broker.stop();
        PahoMqttLink link = link(LinkConfig.device(broker.uri(), "dev-first"));
        link.start();
        CompletableFuture<Void> early = link.publish("x", new byte[] {1}, false);
        assertThat(early).isCompletedExceptionally();
        assertThat(AgentException.in(early.handle((v, e) -> e).join(), AgentError.CLIENT_ERROR).code()).isEqualTo(AgentError.NOT_CONNECTED);
        broker.start();
        await().atMost(10, TimeUnit.SECONDS).until(link::isConnected);
    }

    @Test
    void resubscribesAfterEveryBrokerRestart() throws Exception {
        MosquittoBroker broker = track(MosquittoBroker.plain());
        PahoMqttLink device = link(LinkConfig.device(broker.uri(), "dev-resub"));
        Queue<String> got = new ConcurrentLinkedQueue<>();
        device.subscribe(Topics.desired("dev-resub"), (t, p, r) -> got.add(new String(p, StandardCharsets.UTF_8)));
        device.start();
        PahoMqttLink controller = link(LinkConfig.controller(broker.uri(), "ctl"));
        controller.start();
        for (int i = 0; i < 3; i++) {
            await().atMost(10, TimeUnit.SECONDS).until(() -> device.isConnected() && controller.isConnected());
            String msg = "round-" + i;
            // Retained, so it reaches the device whether it resubscribed before or after this publish.
            controller.publish(Topics.desired("dev-resub"), msg.getBytes(StandardCharsets.UTF_8), true).get(10, TimeUnit.SECONDS);
            await().atMost(10, TimeUnit.SECONDS).until(() -> got.contains(msg));
            broker.restart();
        }
    }

    @Test
    void presenceIsOnlineWhileConnectedOfflineByWillAfterACrashAndOfflineAfterStop() throws Exception {
        MosquittoBroker broker = track(MosquittoBroker.plain());
        PahoMqttLink watcher = link(LinkConfig.controller(broker.uri(), "watcher"));
        Queue<MqttPresence> seen = new ConcurrentLinkedQueue<>();
        watcher.subscribe(Topics.ALL_PRESENCE, (t, p, r) -> {
            try {
                seen.add(WireCodec.decode(p, MqttPresence.class));
            } catch (rsuota.wire.WireException e) {
                throw new AssertionError(e);
            }
        });
        watcher.start();
        await().atMost(10, TimeUnit.SECONDS).until(watcher::isConnected);

        PahoMqttLink crashing = new PahoMqttLink(LinkConfig.device(broker.uri(), "dev-p").withBackoff(FAST), Clock.systemUTC());
        crashing.start();
        await().atMost(10, TimeUnit.SECONDS).until(() -> last(seen) != null && MqttPresence.ONLINE.equals(last(seen).status()));
        crashing.halt();
        await().atMost(10, TimeUnit.SECONDS).until(() -> MqttPresence.OFFLINE.equals(last(seen).status()));
        assertThat(last(seen).at()).as("the will has no device time").isNull();

        PahoMqttLink clean = link(LinkConfig.device(broker.uri(), "dev-p"));
        clean.start();
        await().atMost(10, TimeUnit.SECONDS).until(() -> MqttPresence.ONLINE.equals(last(seen).status()));
        clean.stop();
        await().atMost(10, TimeUnit.SECONDS).until(() -> MqttPresence.OFFLINE.equals(last(seen).status()) && last(seen).at() != null);
    }

    private static MqttPresence last(Queue<MqttPresence> q) {
        MqttPresence last = null;
        for (MqttPresence p : q) last = p;
        return last;
    }
}
