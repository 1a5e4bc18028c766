package rsuota.agent.report;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import rsuota.agent.link.Backoff;
import rsuota.agent.link.LinkConfig;
import rsuota.agent.link.PahoMqttLink;

/**
 * A device agent in its own JVM, for the kill -9 test: opens the outbox in DIR, connects to
 * BROKER, emits COUNT transitions labelled PREFIX0.., then keeps publishing until it is killed
 * (at most 60 s). Prints "emitted N" after each emit so the test can follow.
 *
 * <p>Usage: {@code EmittingChild BROKER DIR DEVICE COUNT PREFIX}
 */
public final class EmittingChild {

    private EmittingChild() {}

    public static void main(String[] args) throws Exception {
        String broker = args[0];
        Path dir = Path.of(args[1]);
        String device = args[2];
        int count = Integer.parseInt(args[3]);
        String prefix = args[4];
        PahoMqttLink link = new PahoMqttLink(LinkConfig.device(broker, device)
                .withBackoff(new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), 2.0, 0.5)), Clock.systemUTC());
        Outbox outbox = Outbox.open(OutboxConfig.in(dir).withBatchSize(5), device, Clock.systemUTC());
        link.start();
        outbox.startPublishing(link);
        for (int i = 0; i < count; i++) {
            outbox.emit(EventSink.Draft.transition("downloading", null, null, Map.of("label", prefix + i)));
            System.out.println("emitted " + (i + 1));
            System.out.flush();
            // Paced by the broker: at most 3 unacknowledged, so the kill lands mid-stream.
            outbox.awaitAcked(outbox.lastSeq() - 3, Duration.ofSeconds(10));
        }
        // The test kills us (SIGKILL) while we publish; the bound only ends an orphan.
        new java.util.concurrent.CountDownLatch(1).await(60, TimeUnit.SECONDS);
        System.exit(0);
    }
}
