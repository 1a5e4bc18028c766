package rsuota.fleet.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.domain.AuditEntry;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/**
 * Alert webhook deliveries against a real loopback HTTP receiver that fails on purpose: retried
 * with backoff until it answers 2xx or the attempts run out, each attempt's outcome stored on the
 * alert and the final one audited; an alert still undelivered when the controller stopped is sent
 * again by {@code resume}. Backoff is shortened (milliseconds) so the test waits on conditions only.
 */
class WebhookAlertsTest {
    static final WebhookAlerts.Retry FAST = new WebhookAlerts.Retry(4, Duration.ofMillis(5), Duration.ofMillis(20));

    @TempDir Path dir;
    RunningController rc;
    HttpServer receiver;
    final AtomicInteger calls = new AtomicInteger();
    volatile int failFirst;
    URI url;

    @BeforeEach
    void start() throws Exception {
        rc = new RunningController(new TestPki(), dir);
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", x -> {
            x.getRequestBody().readAllBytes();
            x.sendResponseHeaders(calls.incrementAndGet() <= failFirst ? 503 : 204, -1);
            x.close();
        });
        receiver.start();
        url = URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook");
    }

    @AfterEach
    void stop() {
        receiver.stop(0);
        rc.close();
    }

    Alert raise() throws Exception {
        return rc.controller.database().write(tx -> new AlertRepository(tx).insert(rc.clock.instant(), Alert.ROLLBACK_OVERDUE, null, "rsu-9",
                Map.of("release", "2.4.0")));
    }

    Alert stored(long id) throws Exception {
        return rc.controller.database().read(tx -> new AlertRepository(tx).undelivered()).stream().filter(a -> a.id() == id).findFirst()
                .orElseGet(() -> null);
    }

    List<AuditEntry> deliveries() throws Exception {
        List<AuditEntry> all = rc.controller.database().read(tx -> tx.audit().page(0, 1000));
        return all.stream().filter(e -> e.action().equals("alert.delivery")).toList();
    }

    @Test
    void aFailingReceiverIsRetriedUntilItAnswersAndTheOutcomeIsRecordedAndAudited() throws Exception {
        failFirst = 2;
        Alert a = raise();
        new WebhookAlerts(url, rc.controller.database(), rc.clock, rc.controller.auditLog(), FAST).raised(a);
        await().atMost(Duration.ofSeconds(10)).until(() -> stored(a.id()) == null);
        assertThat(calls.get()).isEqualTo(3);
        List<AuditEntry> d = deliveries();
        assertThat(d).singleElement().satisfies(e -> {
            assertThat(e.actor()).isEqualTo("system:alert-webhook");
            assertThat(e.reason()).isEqualTo("delivered: HTTP 204 after 3 attempts");
        });
    }

    @Test
    void aReceiverThatNeverAnswersWellIsGivenUpAfterTheLastAttempt() throws Exception {
        failFirst = Integer.MAX_VALUE;
        Alert a = raise();
        new WebhookAlerts(url, rc.controller.database(), rc.clock, rc.controller.auditLog(), FAST).raised(a);
        await().atMost(Duration.ofSeconds(10)).until(() -> !deliveries().isEmpty());
        assertThat(calls.get()).isEqualTo(4);
        assertThat(deliveries()).singleElement().satisfies(e -> assertThat(e.reason()).isEqualTo("failed after 4 attempts: HTTP 503"));
        assertThat(stored(a.id())).as("delivery ended (given up), so it is not sent again at the next start").isNull();
    }

    @Test
    void anAlertUndeliveredWhenTheControllerStoppedIsSentAtTheNextStart() throws Exception {
        Alert a = raise();
        assertThat(stored(a.id())).isNotNull();
        new WebhookAlerts(url, rc.controller.database(), rc.clock, rc.controller.auditLog(), FAST).resume();
        await().atMost(Duration.ofSeconds(10)).until(() -> stored(a.id()) == null);
        assertThat(calls.get()).isEqualTo(1);
        assertThat(deliveries()).singleElement().satisfies(e -> assertThat(e.reason()).isEqualTo("delivered: HTTP 204"));
    }

    @Test
    void backoffGrowsAndIsCapped() {
        WebhookAlerts.Retry r = new WebhookAlerts.Retry(9, Duration.ofSeconds(2), Duration.ofSeconds(30));
        for (int i = 0; i < 200; i++) {
            assertThat(r.delay(1)).isBetween(Duration.ZERO, Duration.ofSeconds(2));
            assertThat(r.delay(3)).isBetween(Duration.ZERO, Duration.ofSeconds(8));
            assertThat(r.delay(8)).isBetween(Duration.ZERO, Duration.ofSeconds(30));
        }
    }
}
