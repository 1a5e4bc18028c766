package rsuota.agent.link;

import rsuota.fixtures.time.SettableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.agent.report.Outbox;
import rsuota.agent.report.OutboxConfig;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.wire.MqttCommand;
import rsuota.wire.MqttEvent;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;
import rsuota.wire.WireException;

/**
 * Commands end to end: the controller publishes on cmd, the device decides, and the controller
 * reads the cmd_ack events that went through the device's outbox.
 */
class CommandDispatcherTest {

    static final String DEV = "rsu-cmd-1";
    static final Backoff FAST = new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), 2.0, 0.5);
    static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");

    @TempDir
    Path dir;

    private final List<MqttEvent> acks = new CopyOnWriteArrayList<>();
    private final List<String> ran = new CopyOnWriteArrayList<>();

    private CommandHandler handler() {
        return new CommandRouter()
                .route("echo", c -> {
                    ran.add(c.id());
                    return Map.of("echo", c.args().getOrDefault("x", ""));
                })
                .route("boom", c -> {
                    ran.add(c.id());
                    throw new AgentException(AgentError.NO_SPACE, "no space for the archive");
                })
                .route("bug", c -> {
                    ran.add(c.id());
                    throw new IllegalStateException("a bug in a handler");
                });
    }

    private MqttEvent ackFor(String id, String state) {
        return acks.stream().filter(e -> id.equals(e.detail().get(CommandDispatcher.CMD_ID)) && state.equals(e.state()))
                .findFirst().orElse(null);
    }

    @Test
    void expiredAndReplayedCommandsAreRefusedWithAnAckAndOthersRunOnce() throws Exception {
        SettableClock clock = new SettableClock(T0);
        try (MosquittoBroker broker = MosquittoBroker.plain();
             PahoMqttLink controller = new PahoMqttLink(LinkConfig.controller(broker.uri(), "controller").withBackoff(FAST), Clock.systemUTC())) {
            controller.subscribe(Topics.events(DEV), (t, p, r) -> acks.add(decode(p)));
            controller.start();
            PahoMqttLink link = new PahoMqttLink(LinkConfig.device(broker.uri(), DEV).withBackoff(FAST), clock);
            Outbox outbox = Outbox.open(OutboxConfig.in(dir.resolve("outbox")), DEV, clock);
            CommandDispatcher dispatcher = new CommandDispatcher(DEV, dir.resolve("state"), outbox, handler(), clock);
            dispatcher.attach(link);
            link.start();
            outbox.startPublishing(link);
            await().atMost(10, TimeUnit.SECONDS).until(() -> link.isConnected() && controller.isConnected());

            send(controller, Messages.command("c-expired", "echo", T0.minusSeconds(1), Map.of()));
            send(controller, Messages.command("c-now", "echo", T0, Map.of()));              // expiresAt == now: expired
            send(controller, Messages.command("c-ok", "echo", T0.plusSeconds(60), Map.of("x", "42")));
            await().atMost(10, TimeUnit.SECONDS).until(() -> ackFor("c-ok", CommandDispatcher.DONE) != null);
            send(controller, Messages.command("c-ok", "echo", T0.plusSeconds(60), Map.of("x", "42")));    // replay
            send(controller, Messages.command("c-boom", "boom", T0.plusSeconds(60), Map.of()));
            send(controller, Messages.command("c-bug", "bug", T0.plusSeconds(60), Map.of()));
            send(controller, Messages.command("c-unknown", "reformat-disk", T0.plusSeconds(60), Map.of()));
            await().atMost(10, TimeUnit.SECONDS).until(() -> ackFor("c-unknown", CommandDispatcher.FAILED) != null
                    && ackFor("c-ok", CommandDispatcher.REFUSED) != null);

            assertThat(ackFor("c-expired", CommandDispatcher.REFUSED).reason()).isEqualTo(CommandDispatcher.EXPIRED);
            assertThat(ackFor("c-now", CommandDispatcher.REFUSED).reason()).isEqualTo(CommandDispatcher.EXPIRED);
            assertThat(ackFor("c-ok", CommandDispatcher.ACCEPTED)).isNotNull();
            assertThat(ackFor("c-ok", CommandDispatcher.DONE).detail()).containsEntry("echo", "42").containsEntry(CommandDispatcher.CMD_TYPE, "echo");
            assertThat(ackFor("c-ok", CommandDispatcher.REFUSED).reason()).isEqualTo(CommandDispatcher.ALREADY_SEEN);
            assertThat(ackFor("c-boom", CommandDispatcher.FAILED).reason()).isEqualTo("NO_SPACE");
            assertThat(ackFor("c-bug", CommandDispatcher.FAILED).reason()).isEqualTo(CommandDispatcher.HANDLER_CRASHED);
            assertThat(ackFor("c-unknown", CommandDispatcher.FAILED).reason()).isEqualTo("UNKNOWN_COMMAND");
            assertThat(ran).containsExactly("c-ok", "c-boom", "c-bug");
            assertThat(acks).allMatch(e -> e.type().equals(CommandDispatcher.TYPE));

            // Time passes on the device clock: a command that was valid is now expired.
            clock.advance(Duration.ofMinutes(2));
            send(controller, Messages.command("c-late", "echo", T0.plusSeconds(60), Map.of()));
            await().atMost(10, TimeUnit.SECONDS).until(() -> ackFor("c-late", CommandDispatcher.REFUSED) != null);
            assertThat(ackFor("c-late", CommandDispatcher.REFUSED).reason()).isEqualTo(CommandDispatcher.EXPIRED);

            // A restart: the seen ids are on disk, so the replay is still refused.
            link.halt();
            dispatcher.close();
            outbox.close();
            PahoMqttLink link2 = new PahoMqttLink(LinkConfig.device(broker.uri(), DEV).withBackoff(FAST), clock);
            Outbox outbox2 = Outbox.open(OutboxConfig.in(dir.resolve("outbox")), DEV, clock);
            CommandDispatcher dispatcher2 = new CommandDispatcher(DEV, dir.resolve("state"), outbox2, handler(), clock);
            dispatcher2.attach(link2);
            link2.start();
            outbox2.startPublishing(link2);
            await().atMost(10, TimeUnit.SECONDS).until(link2::isConnected);
            int before = acks.size();
            send(controller, Messages.command("c-ok", "echo", clock.instant().plusSeconds(60), Map.of("x", "42")));
            await().atMost(10, TimeUnit.SECONDS).until(() -> acks.size() > before);
            assertThat(acks.get(acks.size() - 1).reason()).isEqualTo(CommandDispatcher.ALREADY_SEEN);
            assertThat(ran).containsExactly("c-ok", "c-boom", "c-bug");
            link2.stop();
            dispatcher2.close();
            outbox2.close();
        }
    }

    private static void send(PahoMqttLink controller, MqttCommand c) throws Exception {
        controller.publish(Topics.cmd(DEV), WireCodec.encode(c), false).get(10, TimeUnit.SECONDS);
    }

    private static MqttEvent decode(byte[] p) {
        try {
            return WireCodec.decode(p, MqttEvent.class);
        } catch (WireException e) {
            throw new AssertionError(e);
        }
    }
}
