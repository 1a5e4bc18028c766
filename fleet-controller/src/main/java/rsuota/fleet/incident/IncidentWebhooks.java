package rsuota.fleet.incident;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.IncidentState;
import rsuota.fleet.domain.Severity;

/**
 * The incident tools' own webhooks, translated into {@link Incidents.Report}s: Prometheus
 * Alertmanager (webhook payload version 4) and PagerDuty (v3 webhooks, HMAC-signed). Pure
 * translation and verification; {@link Incidents#reportAll} applies the result in one transaction,
 * so a payload with one bad alert changes nothing.
 *
 * <p>Incident ids are the tool's own, prefixed so that two tools never collide: {@code am-} and
 * the alert's fingerprint (stable across firing and resolved), {@code pd-} and PagerDuty's
 * incident id.
 */
public final class IncidentWebhooks {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** PagerDuty's release link: the incident title or key carries {@code release=VERSION}. */
    static final Pattern RELEASE_IN_TEXT = Pattern.compile("(?:^|[\\s\\[(,;])release=([A-Za-z0-9][A-Za-z0-9._+-]{0,63})");

    private final AtomicReference<byte[]> pagerDutySecret = new AtomicReference<>();

    /** The secret of the PagerDuty webhook subscription (PagerDuty shows it once, when the subscription is made). */
    public void pagerDutySecret(byte[] secret) {
        if (secret == null || secret.length < 16) throw new IllegalArgumentException("the PagerDuty webhook secret must be at least 16 bytes");
        pagerDutySecret.set(secret.clone());
    }

    public boolean pagerDutyConfigured() {
        return pagerDutySecret.get() != null;
    }

    // ---------------------------------------------------------------- Alertmanager

    /**
     * One report per alert of an Alertmanager webhook (version 4). Labels: {@code severity}
     * (critical -> sev1, error/major/high -> sev2, warning/minor/medium -> sev3, info/low -> sev4, or
     * sev1..sev4 / P1..P4), {@code release} (or {@code rsu_release}) links the incident to a release;
     * the title is the {@code summary} annotation or the alert name; firing is open, resolved resolved.
     */
    public static List<Incidents.Report> alertmanager(byte[] body) throws FleetException {
        JsonNode root = parse(body, "Alertmanager");
        String version = root.path("version").asText("");
        if (!version.equals("4")) {
            throw FleetException.invalid("version", "'" + version + "' is not an Alertmanager webhook of version 4 (send_resolved payloads of"
                    + " Alertmanager 0.16 and later are version 4)");
        }
        JsonNode alerts = root.path("alerts");
        if (!alerts.isArray() || alerts.isEmpty()) throw FleetException.invalid("alerts", "must be a non-empty list of alerts");
        String receiver = root.path("receiver").asText(null);
        List<Incidents.Report> out = new ArrayList<>();
        for (int i = 0; i < alerts.size(); i++) {
            JsonNode a = alerts.get(i);
            String where = "alerts[" + i + "]";
            String fingerprint = a.path("fingerprint").asText("");
            if (!fingerprint.matches("[0-9a-fA-F]{1,60}")) throw FleetException.invalid(where + ".fingerprint", "must be the alert's hex fingerprint, got '" + fingerprint + "'");
            JsonNode labels = a.path("labels");
            String sev = labels.path("severity").asText(null);
            if (sev == null) throw FleetException.invalid(where + ".labels.severity", "is required (critical, error, warning, info or sev1..sev4)");
            Severity severity = alertmanagerSeverity(sev, where + ".labels.severity");
            String status = a.path("status").asText("");
            IncidentState state = switch (status) {
                case "firing" -> IncidentState.OPEN;
                case "resolved" -> IncidentState.RESOLVED;
                default -> throw FleetException.invalid(where + ".status", "'" + status + "' is neither firing nor resolved");
            };
            String release = labels.hasNonNull("release") ? labels.get("release").asText() : labels.path("rsu_release").asText(null);
            String title = a.path("annotations").path("summary").asText(labels.path("alertname").asText(null));
            String reason = "alertmanager" + (receiver == null ? "" : " receiver " + receiver) + ": alert " + labels.path("alertname").asText("?")
                    + " " + status;
            out.add(new Incidents.Report("am-" + fingerprint.toLowerCase(Locale.ROOT), severity.wire(), state.wire(), release, title, reason));
        }
        return out;
    }

    static Severity alertmanagerSeverity(String label, String field) throws FleetException {
        return switch (label.trim().toLowerCase(Locale.ROOT)) {
            case "critical", "page" -> Severity.SEV1;
            case "error", "major", "high" -> Severity.SEV2;
            case "warning", "minor", "medium" -> Severity.SEV3;
            case "info", "low", "none" -> Severity.SEV4;
            default -> Severity.require(label, field);
        };
    }

    // ---------------------------------------------------------------- PagerDuty

    /**
     * Checks the {@code X-PagerDuty-Signature} header (one or more {@code v1=HEX}, HMAC-SHA256 of the
     * raw body with the subscription's secret; several during a secret rotation) in constant time.
     */
    public void verifyPagerDuty(byte[] body, String signatureHeader) throws FleetException {
        byte[] secret = pagerDutySecret.get();
        if (secret == null) {
            throw new FleetException(ErrorCode.NOT_FOUND, "no PagerDuty webhook is configured here (fleet-controller run --pagerduty-secret-file FILE)");
        }
        if (signatureHeader == null || signatureHeader.isBlank()) {
            throw new FleetException(ErrorCode.UNAUTHENTICATED, "the PagerDuty webhook carries no X-PagerDuty-Signature header: refused");
        }
        byte[] expected = hmac(secret, body);
        for (String part : signatureHeader.split(",")) {
            String p = part.trim();
            if (!p.startsWith("v1=")) continue;
            byte[] given;
            try {
                given = HexFormat.of().parseHex(p.substring(3));
            } catch (IllegalArgumentException e) {
                continue;
            }
            if (MessageDigest.isEqual(expected, given)) return;
        }
        throw new FleetException(ErrorCode.UNAUTHENTICATED, "the X-PagerDuty-Signature does not match the body signed with the configured secret: refused");
    }

    /** HMAC-SHA256, as PagerDuty signs a webhook body (tests and tools sign with it too). */
    public static byte[] hmac(byte[] secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /**
     * The report of one PagerDuty v3 webhook event, or null for an event about an incident that
     * changes nothing the controller keeps (annotated, delegated, escalated, ...). Priority P1..P5
     * maps to sev1..sev4 (P5 is sev4); without a priority, urgency high is sev2 and low sev3.
     */
    public static Incidents.Report pagerDuty(byte[] body) throws FleetException {
        JsonNode event = parse(body, "PagerDuty").path("event");
        if (!event.isObject()) throw FleetException.invalid("event", "is missing: not a PagerDuty v3 webhook payload");
        String type = event.path("event_type").asText("");
        if (!event.path("resource_type").asText("").equals("incident")) {
            throw FleetException.invalid("event.resource_type", "'" + event.path("resource_type").asText("") + "' is not an incident event");
        }
        JsonNode data = event.path("data");
        String id = data.path("id").asText("");
        if (!id.matches("[A-Za-z0-9]{1,60}")) throw FleetException.invalid("event.data.id", "must be PagerDuty's incident id, got '" + id + "'");
        IncidentState state = switch (type) {
            case "incident.triggered", "incident.acknowledged", "incident.unacknowledged", "incident.reopened", "incident.priority_updated" -> IncidentState.OPEN;
            case "incident.resolved" -> IncidentState.RESOLVED;
            case "incident.annotated", "incident.delegated", "incident.escalated", "incident.reassigned", "incident.responder.added",
                 "incident.responder.replied", "incident.status_update_published", "incident.conference_bridge.updated" -> null;
            default -> throw FleetException.invalid("event.event_type", "'" + type + "' is not an incident event this controller knows"
                    + " (incident.triggered, .acknowledged, .unacknowledged, .reopened, .priority_updated, .resolved)");
        };
        if (state == null) return null;
        String title = data.path("title").asText(null);
        String release = releaseIn(title);
        if (release == null) release = releaseIn(data.path("incident_key").asText(null));
        String agent = event.path("agent").path("summary").asText(null);
        return new Incidents.Report("pd-" + id, pagerDutySeverity(data).wire(), state.wire(), release, title,
                "pagerduty " + type + (agent == null ? "" : " by " + agent));
    }

    static Severity pagerDutySeverity(JsonNode data) throws FleetException {
        String priority = data.path("priority").path("summary").asText(null);
        if (priority != null) {
            Matcher m = Pattern.compile("P([1-5])").matcher(priority.trim().toUpperCase(Locale.ROOT));
            if (!m.matches()) throw FleetException.invalid("event.data.priority.summary", "'" + priority + "' is not a priority P1..P5");
            int p = Integer.parseInt(m.group(1));
            return p == 1 ? Severity.SEV1 : p == 2 ? Severity.SEV2 : p == 3 ? Severity.SEV3 : Severity.SEV4;
        }
        return "high".equals(data.path("urgency").asText("")) ? Severity.SEV2 : Severity.SEV3;
    }

    static String releaseIn(String text) {
        if (text == null) return null;
        Matcher m = RELEASE_IN_TEXT.matcher(text);
        return m.find() ? m.group(1) : null;
    }

    private static JsonNode parse(byte[] body, String tool) throws FleetException {
        try {
            JsonNode n = JSON.readTree(body);
            if (n == null || !n.isObject()) throw FleetException.invalid("body", "is not a JSON object: not a " + tool + " webhook payload");
            return n;
        } catch (IOException e) {
            throw FleetException.invalid("body", "is not JSON (" + e.getMessage().lines().findFirst().orElse("") + "): not a " + tool + " webhook payload");
        }
    }
}
