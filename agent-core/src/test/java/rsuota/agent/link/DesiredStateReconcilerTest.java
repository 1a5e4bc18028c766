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
}
