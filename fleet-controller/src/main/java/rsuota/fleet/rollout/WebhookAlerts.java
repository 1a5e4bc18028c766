package rsuota.fleet.rollout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.policy.PolicyJson;
import rsuota.fleet.store.Database;

/**
 * Posts each alert as JSON to a configured URL (an incident tool, a chat hook). Asynchronous: a
 * slow or dead receiver never holds the engine. A delivery that fails (no answer, or not 2xx) is
 * retried with exponential backoff and full jitter, up to {@link Retry#attempts()} times; every
 * attempt's outcome is stored on the alert (status shows whether anybody was told) and the final
 * one is audited ({@code alert.delivery}, actor {@code system:alert-webhook}). Alerts still
 * undelivered when the controller stopped are sent again at start ({@link #resume}).
 */
public final class WebhookAlerts implements AlertSink {
    private static final Logger log = LoggerFactory.getLogger(WebhookAlerts.class);
    /** A receiver that needs longer than this is treated as down; the alert stays visible in status. */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    static final Principal ACTOR = Principal.system("alert-webhook");

    /**
     * How often and how patiently a delivery is retried: attempt n waits a random time in
     * [0, min(max, base * 2^(n-1))] (full jitter, so receivers coming back are not hit in lockstep).
     */
    public record Retry(int attempts, Duration base, Duration max) {
        /** Five attempts over about a minute: long enough for a receiver's restart, short enough to page a human soon. */
        public static final Retry DEFAULT = new Retry(5, Duration.ofSeconds(2), Duration.ofSeconds(30));

        public Retry {
            if (attempts < 1) throw new IllegalArgumentException("attempts must be >= 1");
            if (base.isNegative() || max.compareTo(base) < 0) throw new IllegalArgumentException("need 0 <= base <= max");
        }

        Duration delay(int failedAttempts) {
            long cap = Math.min(max.toMillis(), base.toMillis() << Math.min(20, failedAttempts - 1));
            return Duration.ofMillis(cap <= 0 ? 0 : java.util.concurrent.ThreadLocalRandom.current().nextLong(cap + 1));
        }
    }

    private final URI url;
    private final Database db;
    private final Clock clock;
    private final AuditLog audit;
    private final Retry retry;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "alert-webhook-retry");
        t.setDaemon(true);
        return t;
    });

    public WebhookAlerts(URI url, Database db, Clock clock, AuditLog audit, Retry retry) {
        this.url = url;
        this.db = db;
        this.clock = clock;
        this.audit = audit;
        this.retry = retry;
    }

    @Override
    public void raised(Alert a) {
        attempt(a, 1);
    }

    /** Sends every alert whose delivery had not ended when the controller stopped. */
    public void resume() throws FleetException {
        for (Alert a : db.read(tx -> new AlertRepository(tx).undelivered())) raised(a);
    }

    private void attempt(Alert a, int n) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("alert", a.kind());
        body.put("id", a.id());
        body.put("at", a.at().toString());
        if (a.rolloutId() != null) body.put("rollout", a.rolloutId());
        if (a.deviceId() != null) body.put("device", a.deviceId());
        body.put("detail", a.detail());
        HttpRequest req = HttpRequest.newBuilder(url).timeout(TIMEOUT).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(PolicyJson.write(body))).build();
        http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((resp, err) -> {
            boolean ok = err == null && resp.statusCode() / 100 == 2;
            String result = err != null ? "no answer: " + err.getClass().getSimpleName() + (err.getMessage() == null ? "" : " " + err.getMessage())
                    : "HTTP " + resp.statusCode();
            boolean last = ok || n >= retry.attempts();
            String outcome = ok ? "delivered: " + result + (n > 1 ? " after " + n + " attempts" : "")
                    : last ? "failed after " + n + " attempt" + (n > 1 ? "s" : "") + ": " + result
                    : "attempt " + n + " of " + retry.attempts() + " failed (" + result + "); retrying";
            if (!ok) log.warn("alert {} ({}) webhook {}: {}", a.id(), a.kind(), url, outcome);
            try {
                db.write(tx -> {
                    new AlertRepository(tx).delivered(a.id(), last ? Millis.now(clock) : null, outcome);
                    if (last) {
                        Map<String, Object> detail = new LinkedHashMap<>();
                        detail.put("alert", a.id());
                        detail.put("kind", a.kind());
                        detail.put("url", url.toString());
                        detail.put("attempts", n);
                        detail.put("result", result);
                        audit.append(tx, ACTOR, "alert.delivery", a.rolloutId() == null ? "alert:" + a.id() : "rollout:" + a.rolloutId(),
                                outcome, detail);
                    }
                    return null;
                });
            } catch (FleetException e) {
                log.error("alert {}: cannot record webhook delivery: {}", a.id(), e.getMessage());
            }
            if (!last) timer.schedule(() -> attempt(a, n + 1), retry.delay(n).toMillis(), TimeUnit.MILLISECONDS);
        });
    }
}
