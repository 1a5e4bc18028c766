package rsuota.agent.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import rsuota.agent.AgentError;
import rsuota.agent.link.Backoff;
import rsuota.agent.link.LinkConfig;
import rsuota.agent.link.PahoMqttLink;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.wire.MqttEvent;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;

class OutboxTest {

    static final String DEV = "rsu-outbox-1";
    static final Backoff FAST = new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), 2.0, 0.5);

    @TempDir
    Path dir;

    private Outbox open(OutboxConfig config) throws IOException {
        return Outbox.open(config, DEV, Clock.systemUTC());
    }

    /** A transition event told apart by its label (in detail: the state must be a real deployment state). */
    private static EventSink.Draft transition(String label) {
        return EventSink.Draft.transition("downloading", "2.0.0", null, Map.of("label", label));
    }

    private static EventSink.Draft telemetry(String type, int n) {
        return new EventSink.Draft(type, null, null, null, Map.of("n", Integer.toString(n)));
    }

    private static List<Long> seqs(Outbox o) {
        return o.pendingEvents().stream().map(MqttEvent::seq).toList();
    }

    @Test
    void seqSurvivesRestartsAndEveryEmitIsOnDiskWhenItReturns() throws IOException {
        try (Outbox o = open(OutboxConfig.in(dir))) {
            o.emit(transition("downloading"));
            o.emit(transition("verified"));
            // No close: the file alone must already hold both lines.
            List<String> lines = Files.readAllLines(dir.resolve(Outbox.LOG_FILE));
            assertThat(lines).hasSize(2);
        }
        try (Outbox o = open(OutboxConfig.in(dir))) {
            assertThat(o.lastSeq()).isEqualTo(2);
            o.emit(transition("activating"));
            assertThat(seqs(o)).containsExactly(1L, 2L, 3L);
        }
    }

    @ParameterizedTest(name = "tail: {0}")
    @ValueSource(strings = {"half-line", "nul-blocks", "garbage-line", "half-line-then-newline", "bad-seq-line"})
    void aTornOrGarbageTailIsCutAndNoCompleteEventIsLost(String tail) throws Exception {
        try (Outbox o = open(OutboxConfig.in(dir))) {
            for (int i = 0; i < 5; i++) o.emit(transition("s" + i));
        }
        Path log = dir.resolve(Outbox.LOG_FILE);
        String sixth = new String(WireCodec.encode(new MqttEvent(MqttEvent.SCHEMA, DEV, 6, java.time.Instant.now(),
                "transition", "downloading", null, null, Map.of())), StandardCharsets.UTF_8);
        byte[] bytes = switch (tail) {
            case "half-line" -> sixth.substring(0, sixth.length() / 2).getBytes(StandardCharsets.UTF_8);
            case "nul-blocks" -> new byte[4096];
            case "garbage-line" -> "{not json at all\n".getBytes(StandardCharsets.UTF_8);
            case "half-line-then-newline" -> (sixth.substring(0, 40) + "\n").getBytes(StandardCharsets.UTF_8);
            case "bad-seq-line" -> (sixth.replace("\"seq\":6", "\"seq\":2") + "\n").getBytes(StandardCharsets.UTF_8);
            default -> throw new IllegalArgumentException(tail);
        };
        Files.write(log, bytes, StandardOpenOption.APPEND);
        try (Outbox o = open(OutboxConfig.in(dir))) {
            assertThat(seqs(o)).containsExactly(1L, 2L, 3L, 4L, 5L);
            o.emit(transition("after"));
            assertThat(o.lastSeq()).isEqualTo(6);
        }
        try (Outbox o = open(OutboxConfig.in(dir))) {
            assertThat(seqs(o)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
            assertThat(o.pendingEvents().get(5).detail()).containsEntry("label", "after");
        }
        for (String line : Files.readAllLines(log)) {
            assertThat(WireCodec.decode(line.getBytes(StandardCharsets.UTF_8), MqttEvent.class)).isNotNull();
        }
    }

    @Test
    void aCorruptLineInTheMiddleIsSkippedAndTheEventsAfterItAreKept() throws IOException {
        try (Outbox o = open(OutboxConfig.in(dir))) {
            o.emit(transition("a"));
        }
        byte[] second = WireCodec.encode(new MqttEvent(MqttEvent.SCHEMA, DEV, 2, java.time.Instant.now(),
                "transition", "downloading", null, null, Map.of("label", "b")));
        Path log = dir.resolve(Outbox.LOG_FILE);
        Files.write(log, "\u0000\u0000garbage\n".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        Files.write(log, second, StandardOpenOption.APPEND);
        Files.write(log, new byte[] {'\n'}, StandardOpenOption.APPEND);
        try (Outbox o = open(OutboxConfig.in(dir))) {
            assertThat(o.pendingEvents()).extracting(e -> e.detail().get("label")).containsExactly("a", "b");
            o.emit(transition("c"));
        }
        try (Outbox o = open(OutboxConfig.in(dir))) {
            assertThat(o.pendingEvents()).extracting(e -> e.detail().get("label")).containsExactly("a", "b", "c");
        }
    }

    @Test
    void boundPolicyCoalescesTelemetryFirstAndNeverDropsTransitions() throws IOException {
        OutboxConfig config = OutboxConfig.in(dir).withBound(10, 1 << 20);
        try (Outbox o = open(config)) {
            for (int i = 1; i <= 5; i++) o.emit(transition("t" + i));          // seq 1-5
            for (int i = 1; i <= 5; i++) o.emit(telemetry("telemetry", i));    // seq 6-10: now full
            o.emit(telemetry("telemetry", 6));                                 // seq 11 supersedes 6-10
            assertThat(seqs(o)).containsExactly(1L, 2L, 3L, 4L, 5L, 11L);
            assertThat(o.pendingEvents().get(5).detail()).containsEntry(Outbox.DROPPED_SEQS, "6-10");

            for (int i = 1; i <= 4; i++) o.emit(telemetry("progress", i));     // seq 12-15: full again
            o.emit(transition("t6"));                                          // seq 16 drops the oldest telemetry (11)
            assertThat(seqs(o)).containsExactly(1L, 2L, 3L, 4L, 5L, 12L, 13L, 14L, 15L, 16L);
            assertThat(o.pendingEvents().get(9).detail()).containsEntry(Outbox.DROPPED_SEQS, "11");

            for (int i = 7; i <= 10; i++) o.emit(transition("t" + i));         // seq 17-20 push out 12-15
            assertThat(o.pendingEvents()).allMatch(e -> e.type().equals("transition"));
            assertThat(o.pendingCount()).isEqualTo(10);

            long before = o.lastSeq();
            o.emit(telemetry("telemetry", 7));                                  // nothing droppable: discarded
            assertThat(o.lastSeq()).isEqualTo(before);
            assertThat(o.discardedCount()).isEqualTo(1);

            o.emit(transition("t11"));                                         // beyond the bound, kept, plus one alert
            o.emit(transition("t12"));                                         // kept, no second alert
            List<MqttEvent> p = o.pendingEvents();
            assertThat(p).hasSize(13);
            assertThat(p).filteredOn(e -> e.type().equals("alert")).singleElement()
                    .satisfies(a -> assertThat(a.reason()).isEqualTo("OUTBOX_OVER_BOUND"));
            assertThat(p).filteredOn(e -> e.type().equals("transition")).extracting(e -> e.detail().get("label"))
                    .containsExactly("t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "t10", "t11", "t12");
        }
        try (Outbox o = open(config)) {
            // The drop list is durable: the dropped telemetry does not come back after a restart.
            assertThat(o.pendingEvents()).noneMatch(e -> e.type().equals("telemetry") || e.type().equals("progress"));
            assertThat(o.pendingCount()).isEqualTo(13);
        }
    }

    @Test
    void publishesInOrderAndForgetsOnlyWhatTheBrokerAcknowledged() throws Exception {
        try (MosquittoBroker broker = MosquittoBroker.plain();
             PahoMqttLink receiver = new PahoMqttLink(LinkConfig.controller(broker.uri(), "rx").withBackoff(FAST), Clock.systemUTC());
             PahoMqttLink link = new PahoMqttLink(LinkConfig.device(broker.uri(), DEV).withBackoff(FAST), Clock.systemUTC());
             Outbox o = open(OutboxConfig.in(dir).withCompactEvery(7).withBatchSize(8))) {
            Queue<Long> got = new ConcurrentLinkedQueue<>();
            receiver.subscribe(Topics.events(DEV), (t, p, r) -> got.add(decodeSeq(p)));
            receiver.start();
            await().atMost(10, TimeUnit.SECONDS).until(receiver::isConnected);
            broker.stop();
            link.start();
            o.startPublishing(link);
            for (int i = 0; i < 30; i++) o.emit(transition("s" + i));
            assertThat(o.ackedSeq()).isZero();
            assertThat(o.pendingCount()).isEqualTo(30);
            broker.start();
            await().atMost(15, TimeUnit.SECONDS).until(() -> receiver.isConnected() && link.isConnected());
            // The receiver may have resubscribed after some events went by; emit more after it is back.
            for (int i = 30; i < 60; i++) o.emit(transition("s" + i));
            await().atMost(15, TimeUnit.SECONDS).until(() -> o.ackedSeq() == 60);
            assertThat(o.pendingCount()).isZero();
            await().atMost(10, TimeUnit.SECONDS).until(() -> got.contains(60L));
            List<Long> tail = got.stream().filter(s -> s > 30).toList();
            assertThat(tail).containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(31, 60).boxed().toList());
        }
        // Compaction removed the acknowledged lines; the seq lives on in the ack pointer.
        assertThat(Files.readAllLines(dir.resolve(Outbox.LOG_FILE)).size()).isLessThan(7);
        try (Outbox o = open(OutboxConfig.in(dir))) {
            assertThat(o.pendingCount()).isZero();
            o.emit(transition("next"));
            assertThat(o.lastSeq()).isEqualTo(61);
        }
    }

    @Test
    void anUnreadableAckPointerRefusesToOpenRatherThanReuseSeqs() throws IOException {
        try (Outbox o = open(OutboxConfig.in(dir))) {
            o.emit(transition("a"));
        }
        Files.writeString(dir.resolve(Outbox.ACK_FILE), "acked=zz\n");
        assertThatThrownBy(() -> open(OutboxConfig.in(dir)))
                .isInstanceOfSatisfying(OutboxException.class, e -> assertThat(e.code()).isEqualTo(AgentError.STATE_CORRUPT));
    }

    @Test
    void anotherDevicesDirectoryIsRefused() throws IOException {
        try (Outbox o = open(OutboxConfig.in(dir))) {
            o.emit(transition("a"));
        }
        assertThatThrownBy(() -> Outbox.open(OutboxConfig.in(dir), "rsu-other", Clock.systemUTC()))
                .isInstanceOfSatisfying(OutboxException.class, e -> assertThat(e.code()).isEqualTo(AgentError.FOREIGN_DEVICE));
    }

    static long decodeSeq(byte[] payload) {
        try {
            return WireCodec.decode(payload, MqttEvent.class).seq();
        } catch (rsuota.wire.WireException e) {
            throw new AssertionError(e);
        }
    }
}
