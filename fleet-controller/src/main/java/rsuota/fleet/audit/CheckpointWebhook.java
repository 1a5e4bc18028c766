package rsuota.fleet.audit;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Posts each audit checkpoint as JSON to a URL outside the controller's host, without waiting: the
 * journal and the local file have it already, a failed post is logged and the next checkpoint carries
 * the newer head anyway.
 */
public final class CheckpointWebhook {
    private static final Logger log = LoggerFactory.getLogger(CheckpointWebhook.class);

    private CheckpointWebhook() {}

    public static Consumer<AuditCheckpoints.Checkpoint> to(URI url) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        return c -> http.sendAsync(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(c.json())).build(), HttpResponse.BodyHandlers.discarding())
                .whenComplete((r, e) -> {
                    if (e != null) log.error("audit checkpoint {} not delivered to {}: {}", c.seq(), url, e.toString());
                    else if (r.statusCode() / 100 != 2) log.error("audit checkpoint {} refused by {}: HTTP {}", c.seq(), url, r.statusCode());
                });
    }
}
