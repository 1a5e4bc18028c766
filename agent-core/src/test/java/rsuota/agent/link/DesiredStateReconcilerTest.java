package rsuota.agent.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.fixtures.net.FaultProxy;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.Topics;

class DesiredStateReconcilerTest {

    static final String DEV = "rsu-recon-1";
    static final Backoff FAST = new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), 2.0, 0.5);

    @TempDir
    Path state;

    private final List<Long> delivered = new CopyOnWriteArrayList<>();

    private static long handled(DesiredStateReconciler r) {
        return r.acceptedCount() + r.ignoredCount() + r.refusedCount();
    }

    @Test
    void newestRevWinsOutOfOrderAndRepeatedRevsAreIgnoredAndTheRevSurvivesARestart() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.plain();
             FaultProxy proxy = FaultProxy.start(broker.port());
             PahoMqttLink controller = new PahoMqttLink(LinkConfig.controller(broker.uri(), "controller").withBackoff(FAST), Clock.systemUTC())) {
            controller.start();
            await().atMost(10, TimeUnit.SECONDS).until(controller::isConnected);
            String desired = Topics.desired(DEV);
            String deviceUri = "tcp://127.0.0.1:" + proxy.port();

            PahoMqttLink link = new PahoMqttLink(LinkConfig.device(deviceUri, DEV).withBackoff(FAST), Clock.systemUTC());
            DesiredStateReconciler r = new DesiredStateReconciler(DEV, state, d -> delivered.add(d.rev()));
            r.attach(link);
            link.start();
            await().atMost(10, TimeUnit.SECONDS).until(link::isConnected);

            // Out of order: 5, then an older 3, then 7, then a late 6.
            for (long rev : new long[] {5, 3, 7, 6}) {
                controller.publish(desired, Messages.desiredJson(rev), true).get(10, TimeUnit.SECONDS);
            }
            await().atMost(10, TimeUnit.SECONDS).until(() -> handled(r) == 4);
            assertThat(delivered).containsExactly(5L, 7L);
            assertThat(r.ignoredCount()).isEqualTo(2);
            assertThat(r.lastAcceptedRev()).isEqualTo(7);

            // The same retained message again: published twice, and re-sent by the broker on resubscribe.
            controller.publish(desired, Messages.desiredJson(7), true).get(10, TimeUnit.SECONDS);
            await().atMost(10, TimeUnit.SECONDS).until(() -> handled(r) == 5);
            proxy.partition();
            await().atMost(10, TimeUnit.SECONDS).until(() -> !link.isConnected());
            proxy.heal();
            await().atMost(10, TimeUnit.SECONDS).until(() -> handled(r) == 6);
            assertThat(delivered).containsExactly(5L, 7L);
            assertThat(r.ignoredCount()).isEqualTo(4);
            link.halt();

            // A restart (new objects over the same state dir): rev 7 is remembered, the retained 7 ignored.
            assertThat(Files.readString(state.resolve(DesiredStateReconciler.REV_FILE)).strip()).isEqualTo("rev=7");
            List<Long> afterRestart = new CopyOnWriteArrayList<>();
            PahoMqttLink link2 = new PahoMqttLink(LinkConfig.device(deviceUri, DEV).withBackoff(FAST), Clock.systemUTC());
            DesiredStateReconciler r2 = new DesiredStateReconciler(DEV, state, d -> afterRestart.add(d.rev()));
            assertThat(r2.lastAcceptedRev()).isEqualTo(7);
            r2.attach(link2);
            link2.start();
            await().atMost(10, TimeUnit.SECONDS).until(() -> handled(r2) == 1);
            assertThat(r2.ignoredCount()).isEqualTo(1);
            controller.publish(desired, Messages.desiredJson(8), true).get(10, TimeUnit.SECONDS);
            await().atMost(10, TimeUnit.SECONDS).until(() -> afterRestart.contains(8L));
            assertThat(afterRestart).containsExactly(8L);
            link2.stop();
        }
    }

    @Test
    void aListenerThatThrowsDoesNotRecordTheRevSoTheOrderIsRetried() throws Exception {
        List<MqttDesiredState> got = new CopyOnWriteArrayList<>();
        boolean[] fail = {true};
        DesiredStateReconciler r = new DesiredStateReconciler(DEV, state, d -> {
            if (fail[0]) throw new IllegalStateException("engine busy");
            got.add(d);
        });
        r.onMessage(Topics.desired(DEV), Messages.desiredJson(4), true);
        assertThat(r.lastAcceptedRev()).isZero();
        assertThat(Files.exists(state.resolve(DesiredStateReconciler.REV_FILE))).isFalse();
        fail[0] = false;
        r.onMessage(Topics.desired(DEV), Messages.desiredJson(4), true);
        assertThat(got).extracting(MqttDesiredState::rev).containsExactly(4L);
        assertThat(r.lastAcceptedRev()).isEqualTo(4);
    }

    @Test
    void aDeposedLeadersLateOrderIsRefusedByItsFencingTokenEvenWithAHigherRevAndTheFenceSurvivesARestart() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.plain();
             PahoMqttLink controller = new PahoMqttLink(LinkConfig.controller(broker.uri(), "controller").withBackoff(FAST), Clock.systemUTC())) {
            controller.start();
            await().atMost(10, TimeUnit.SECONDS).until(controller::isConnected);
            String desired = Topics.desired(DEV);
            PahoMqttLink link = new PahoMqttLink(LinkConfig.device(broker.uri(), DEV).withBackoff(FAST), Clock.systemUTC());
            DesiredStateReconciler r = new DesiredStateReconciler(DEV, state, d -> delivered.add(d.rev()));
            r.attach(link);
            link.start();
            await().atMost(10, TimeUnit.SECONDS).until(link::isConnected);

            // Replica A leads with token 1700000000000 and orders rev 5; B takes over (token + 1) and orders rev 6.
            long a = 1_700_000_000_000L;
            controller.publish(desired, Messages.desiredJson(5, a), true).get(10, TimeUnit.SECONDS);
            controller.publish(desired, Messages.desiredJson(6, a + 1), true).get(10, TimeUnit.SECONDS);
            // A wakes from a pause and publishes what it had computed, a rev above B's: refused by the token.
            controller.publish(desired, Messages.desiredJson(7, a), true).get(10, TimeUnit.SECONDS);
            await().atMost(10, TimeUnit.SECONDS).until(() -> handled(r) == 3);
            assertThat(delivered).containsExactly(5L, 6L);
            assertThat(r.refusedCount()).isEqualTo(1);
            assertThat(r.lastAcceptedRev()).isEqualTo(6);
            assertThat(r.highestFencingToken()).isEqualTo(a + 1);
            link.halt();

            // A restart: the stale order is still the retained one and is refused again; the fence was persisted.
            assertThat(Files.readString(state.resolve(DesiredStateReconciler.REV_FILE))).isEqualTo("rev=6\nfence=" + (a + 1) + "\n");
            List<Long> afterRestart = new CopyOnWriteArrayList<>();
            PahoMqttLink link2 = new PahoMqttLink(LinkConfig.device(broker.uri(), DEV).withBackoff(FAST), Clock.systemUTC());
            DesiredStateReconciler r2 = new DesiredStateReconciler(DEV, state, d -> afterRestart.add(d.rev()));
            assertThat(r2.highestFencingToken()).isEqualTo(a + 1);
            r2.attach(link2);
            link2.start();
            await().atMost(10, TimeUnit.SECONDS).until(() -> handled(r2) == 1);
            assertThat(r2.refusedCount()).isEqualTo(1);
            // B (or a later leader) re-sends: accepted, and the fence moves up with it.
            controller.publish(desired, Messages.desiredJson(7, a + 2), true).get(10, TimeUnit.SECONDS);
            await().atMost(10, TimeUnit.SECONDS).until(() -> afterRestart.contains(7L));
            assertThat(r2.highestFencingToken()).isEqualTo(a + 2);
            link2.stop();
        }
    }

    @Test
    void ordersWithoutATokenFromASoleControllerAreJudgedByRevAndAnOlderRevFileWithoutAFenceStillReads() throws Exception {
        Files.writeString(state.resolve(DesiredStateReconciler.REV_FILE), "rev=3\n");
        DesiredStateReconciler r = new DesiredStateReconciler(DEV, state, d -> delivered.add(d.rev()));
        assertThat(r.lastAcceptedRev()).isEqualTo(3);
        assertThat(r.highestFencingToken()).isZero();
        r.onMessage(Topics.desired(DEV), Messages.desiredJson(4), true);
        r.onMessage(Topics.desired(DEV), Messages.desiredJson(5, 9), true);
        // Moving back to a sole controller (its orders carry no token) is not refused: the rev still orders them.
        r.onMessage(Topics.desired(DEV), Messages.desiredJson(6), true);
        r.onMessage(Topics.desired(DEV), Messages.desiredJson(7, 8), true);
        assertThat(delivered).containsExactly(4L, 5L, 6L);
        assertThat(r.refusedCount()).isEqualTo(1);
        assertThat(Files.readString(state.resolve(DesiredStateReconciler.REV_FILE))).isEqualTo("rev=6\nfence=9\n");
    }

    @Test
    void aCorruptFenceLineIsReportedAndTheNextOrderAccepted() throws Exception {
        Files.writeString(state.resolve(DesiredStateReconciler.REV_FILE), "rev=3\nfence=x\n");
        DesiredStateReconciler r = new DesiredStateReconciler(DEV, state, d -> delivered.add(d.rev()));
        assertThat(r.lastAcceptedRev()).isZero();
        assertThat(r.highestFencingToken()).isZero();
        r.onMessage(Topics.desired(DEV), Messages.desiredJson(1, 5), true);
        assertThat(delivered).containsExactly(1L);
    }
}
