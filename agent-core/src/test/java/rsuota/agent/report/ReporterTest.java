package rsuota.agent.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.link.Backoff;
import rsuota.agent.link.LinkConfig;
import rsuota.agent.link.PahoMqttLink;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.wire.MqttState;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;
import rsuota.wire.WireException;

class ReporterTest {

    static final String DEV = "rsu-report-1";
    static final Backoff FAST = new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), 2.0, 0.5);
    static final Instant T0 = Instant.parse("2026-11-27T12:00:00Z");

    @TempDir
    Path dir;

    private final List<MqttState> states = new CopyOnWriteArrayList<>();
    private volatile String engineState = "idle";

    private MqttState snapshot() {
        return new MqttState(MqttState.SCHEMA, DEV, new MqttState.Identity("rsu-v2", "north", "A9", "km-12", List.of("pilot")),
                Map.of("baseImage", "2024.10", "app", "2.0.0", "agent", "0.1.0"),
                List.of(new MqttState.Slot("A", "good", "2.0.0", true), new MqttState.Slot("B", "verified", "1.9.0", false)),
                new MqttState.Deployment(engineState, "2.1.0", 7, 0, 0, null), null,
                new MqttState.Kpis(0.999, 12, 40, 0.001), Instant.EPOCH, 0);
    }

    @Test
    void heartbeatsAtTheIntervalStampedWithTheInjectedClock() throws Exception {
        Clock fixed = Clock.fixed(T0, ZoneOffset.UTC);
        try (MosquittoBroker broker = MosquittoBroker.plain();
             PahoMqttLink controller = controller(broker);
             PahoMqttLink link = new PahoMqttLink(LinkConfig.device(broker.uri(), DEV).withBackoff(FAST), fixed);
             Reporter reporter = new Reporter(link, DEV, this::snapshot, () -> 41, fixed, Duration.ofMillis(200))) {
            link.start();
            reporter.start();
            await().atMost(10, TimeUnit.SECONDS).until(() -> states.size() >= 4);
            MqttState s = states.get(states.size() - 1);
            assertThat(s.heartbeatAt()).isEqualTo(T0);
            assertThat(s.lastSeq()).isEqualTo(41);
            assertThat(s.deviceId()).isEqualTo(DEV);
            assertThat(s.versions()).containsEntry("app", "2.0.0");
            assertThat(s.slots()).hasSize(2);
            assertThat(s.kpis().availability()).isEqualTo(0.999);
        }
    }

    @Test
    void aTransitionAndAReconnectEachPublishAFreshSnapshotWithoutWaitingForTheHeartbeat() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.plain();
             PahoMqttLink controller = controller(broker);
             PahoMqttLink link = new PahoMqttLink(LinkConfig.device(broker.uri(), DEV).withBackoff(FAST), Clock.systemUTC());
             Outbox outbox = Outbox.open(OutboxConfig.in(dir), DEV, Clock.systemUTC());
             Reporter reporter = Reporter.forOutbox(link, outbox, DEV, this::snapshot, Clock.systemUTC(), Duration.ofHours(1))) {
            link.start();
            outbox.startPublishing(link);
            reporter.start();
            await().atMost(10, TimeUnit.SECONDS).until(() -> !states.isEmpty());

            engineState = "downloading";
            outbox.emit(EventSink.Draft.transition("downloading", "2.1.0", null, Map.of()));
            await().atMost(10, TimeUnit.SECONDS).until(() -> last().deployment().state().equals("downloading"));
            assertThat(last().lastSeq()).isEqualTo(1);

            // Telemetry is not a transition: no extra snapshot for it.
            int before = states.size();
            outbox.emit(new EventSink.Draft("telemetry", null, null, null, Map.of("cpu", "0.2")));
            await().atMost(10, TimeUnit.SECONDS).until(() -> outbox.ackedSeq() == 2);
            assertThat(states).hasSize(before);

            // The broker restarts and forgets the retained state: the reporter puts it back on reconnect.
            engineState = "verified";
            broker.restart();
            await().atMost(15, TimeUnit.SECONDS).until(() -> states.size() > before && last().deployment().state().equals("verified"));
            assertThat(last().lastSeq()).isEqualTo(2);
        }
    }

    private MqttState last() {
        return states.get(states.size() - 1);
    }

    private PahoMqttLink controller(MosquittoBroker broker) {
        PahoMqttLink c = new PahoMqttLink(LinkConfig.controller(broker.uri(), "controller").withBackoff(FAST), Clock.systemUTC());
        c.subscribe(Topics.state(DEV), (t, p, r) -> {
            try {
                states.add(WireCodec.decode(p, MqttState.class));
            } catch (WireException e) {
                throw new AssertionError(e);
            }
        });
        c.start();
        await().atMost(10, TimeUnit.SECONDS).until(c::isConnected);
        return c;
    }
}
