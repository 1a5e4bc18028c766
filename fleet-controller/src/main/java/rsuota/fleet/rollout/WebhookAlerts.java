package rsuota.fleet.rollout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.policy.PolicyJson;
import rsuota.fleet.store.Database;

/**
 * Posts each alert as JSON to a configured URL (an incident tool, a chat hook). Asynchronous: a
 * slow or dead receiver never holds the engine. The outcome ("HTTP 200", "failed: ...") is stored
 * on the alert, so status shows whether anybody was told.
 */
public final class WebhookAlerts implements AlertSink {
    private static final Logger log = LoggerFactory.getLogger(WebhookAlerts.class);
    /** A receiver that needs longer than this is treated as down; the alert stays visible in status. */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final URI url;
    private final Database db;
    private final Clock clock;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    public WebhookAlerts(URI url, Database db, Clock clock) {
        this.url = url;
        this.db = db;
        this.clock = clock;
    }

    @Override
    public void raised(Alert a) {
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
            String result = err != null ? "failed: " + err : "HTTP " + resp.statusCode();
            if (err != null || resp.statusCode() / 100 != 2) log.warn("alert {} ({}) webhook {}: {}", a.id(), a.kind(), url, result);
            try {
                db.write(tx -> {
                    new AlertRepository(tx).delivered(a.id(), Millis.now(clock), result);
                    return null;
                });
            } catch (FleetException e) {
                log.error("alert {}: cannot record webhook delivery: {}", a.id(), e.getMessage());
            }
        });
    }
}
