package rsuota.fleet.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import rsuota.fleet.audit.AuditTrail;
import rsuota.fleet.auth.Tokens;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.device.DeviceRegistry;
import rsuota.fleet.device.InventoryFormat;
import rsuota.fleet.domain.AuditEntry;
import rsuota.fleet.domain.CohortFilter;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Names;
import rsuota.fleet.domain.Role;
import rsuota.fleet.incident.IncidentWebhooks;
import rsuota.fleet.incident.Incidents;
import rsuota.fleet.release.ReleaseCatalog;
import rsuota.fleet.store.AuditRepository;
import rsuota.fleet.store.DeviceRepository;

import static rsuota.fleet.domain.Role.ADMIN;
import static rsuota.fleet.domain.Role.OPERATOR;
import static rsuota.fleet.domain.Role.RELEASE_MANAGER;
import static rsuota.fleet.domain.Role.VIEWER;

/**
 * The REST surface in one table: method, path, least role, whether it mutates, body limit.
 * Later parts (rollouts, pause rules) add their rows with {@link #add}.
 */
public final class ApiRoutes {
    /** JSON requests are small; 1 MiB leaves room for long member lists. */
    static final int JSON_LIMIT = 1 << 20;
    /** An inventory of tens of thousands of devices fits comfortably. */
    static final int IMPORT_LIMIT = 16 << 20;
    /** Audit entries per store read of the export. */
    static final int AUDIT_PAGE_MAX = Paging.MAX;

    /** The services the routes call. */
    public record Services(Tokens tokens, DeviceRegistry devices, ReleaseCatalog releases, Cohorts cohorts,
                           Incidents incidents, AuditTrail audit, Metrics metrics,
                           rsuota.fleet.audit.AuditCheckpoints checkpoints) {}

    private final List<Route> routes = new ArrayList<>();

    public ApiRoutes(Services s) {
        add("POST", "/api/v1/tokens", ADMIN, true, JSON_LIMIT, c -> {
            var req = c.json(RestRequests.TokenCreate.class);
            Role role = Role.require(req.role(), "role");
            var issued = s.tokens().create(c.principal(), role, req.label(), req.reason(), req.ttl());
            return Reply.created(RestViews.RestIssuedToken.of(issued.info(), issued.secret()));
        });
        add("GET", "/api/v1/tokens", ADMIN, false, 0, c -> {
            Paging paging = Paging.of(c);
            var now = s.tokens().now();
            return Reply.ok(paging.answer("tokens", s.tokens().page(paging.afterNumber(), paging.limit() + 1), t -> t.id(),
                    t -> RestViews.RestToken.of(t, now)));
        });
        add("POST", "/api/v1/tokens/{id}/revoke", ADMIN, true, JSON_LIMIT, c ->
                Reply.ok(RestViews.RestToken.of(s.tokens().revoke(c.principal(), c.pathLong("id"), c.json(RestRequests.Reason.class).reason()),
                        s.tokens().now())));
        // Any holder rotates their own token before it expires (a script's token, a departing laptop).
        add("POST", "/api/v1/tokens/self/rotate", VIEWER, true, JSON_LIMIT, c -> {
            var req = c.body().length == 0 ? new RestRequests.TokenRotate(null, null) : c.json(RestRequests.TokenRotate.class);
            var issued = s.tokens().rotate(c.principal(), s.tokens().own(c.principal()).id(), req.reason(), req.ttl());
            return Reply.ok(RestViews.RestIssuedToken.of(issued.info(), issued.secret()));
        });
        add("POST", "/api/v1/tokens/{id}/rotate", ADMIN, true, JSON_LIMIT, c -> {
            var req = c.body().length == 0 ? new RestRequests.TokenRotate(null, null) : c.json(RestRequests.TokenRotate.class);
            var issued = s.tokens().rotate(c.principal(), c.pathLong("id"), req.reason(), req.ttl());
            return Reply.ok(RestViews.RestIssuedToken.of(issued.info(), issued.secret()));
        });

        add("GET", "/api/v1/devices", VIEWER, false, 0, c -> {
            Paging paging = Paging.of(c);
            Long cohort = c.query("cohort") == null || c.query("cohort").isEmpty() ? null : c.queryLong("cohort", 0, 1, Long.MAX_VALUE);
            var q = new DeviceRepository.Query(cohort, Names.optionalName(c.query("variant"), "variant"),
                    Names.optionalName(c.query("region"), "region"), Names.optionalName(c.query("corridor"), "corridor"));
            String after = paging.after() == null ? null : Names.requireDeviceId(paging.after(), "after");
            return Reply.ok(paging.answer("devices", s.devices().page(q, c.query("state"), after, paging.limit() + 1),
                    l -> l.device().record().id(), l -> RestViews.RestDevice.of(l.device(), l.deploymentState(), l.flags())));
        });
        add("GET", "/api/v1/devices/{id}", VIEWER, false, 0, c ->
                Reply.ok(RestViews.RestDevice.of(s.devices().get(c.pathParam("id")), s.devices().technicianHold(c.pathParam("id")))));
        add("GET", "/api/v1/devices/{id}/events", VIEWER, false, 0, c -> {
            Paging paging = Paging.of(c);
            return Reply.ok(paging.answer("events", s.devices().history(c.pathParam("id"), paging.afterNumber(), paging.limit() + 1),
                    e -> e.seq(), e -> RestViews.RestDeviceEvent.of(e)));
        });
        add("POST", "/api/v1/devices/import", RELEASE_MANAGER, true, IMPORT_LIMIT, c -> {
            InventoryFormat f = InventoryFormat.guess(c.query("format")).or(() -> InventoryFormat.guess(c.contentType()))
                    .orElseThrow(() -> FleetException.invalid("format", "send Content-Type text/csv or application/json (or ?format=csv|json)"));
            var r = s.devices().importInventory(c.principal(), c.text(), f, c.query("reason"));
            return Reply.ok(Map.of("imported", r.imported(), "created", r.created(), "updated", r.updated()));
        });

        add("POST", "/api/v1/releases", RELEASE_MANAGER, true, JSON_LIMIT, c -> {
            var req = c.json(RestRequests.ReleaseCreate.class);
            var r = s.releases().create(c.principal(), new ReleaseCatalog.NewRelease(req.bundle(), req.bundleUrl(),
                    req.previousStable(), req.notes(), req.reason()));
            return Reply.created(RestViews.RestRelease.of(r, false));
        });
        add("GET", "/api/v1/releases", VIEWER, false, 0, c -> {
            Paging paging = Paging.of(c);
            List<RestViews.RestRelease> all = new ArrayList<>();
            for (var r : s.releases().list()) all.add(RestViews.RestRelease.of(r, false, s.releases().withdrawal(r.version()).orElse(null)));
            return Reply.ok(paging.page("releases", all, RestViews.RestRelease::version, Paging::textKey, r -> r));
        });
        add("GET", "/api/v1/releases/{version}", VIEWER, false, 0, c -> {
            var r = s.releases().get(c.pathParam("version"));
            return Reply.ok(RestViews.RestRelease.of(r, s.releases().withdrawal(r.version()).orElse(null), s.releases().transfer(r)));
        });

        add("POST", "/api/v1/cohorts", RELEASE_MANAGER, true, JSON_LIMIT, c -> {
            var req = c.json(RestRequests.CohortCreate.class);
            CohortKind kind = req.kind() == null ? null : CohortKind.require(req.kind(), "kind");
            CohortFilter filter = req.filter() == null ? null
                    : new CohortFilter(req.filter().region(), req.filter().corridor(), req.filter().variant(), req.filter().tags());
            var created = s.cohorts().create(c.principal(), new Cohorts.NewCohort(req.release(), req.name(), kind, filter,
                    req.sizeCap(), req.members(), req.reason()));
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("cohort", RestViews.RestCohort.of(created.cohort(), null));
            body.put("members", created.members());
            body.put("excluded", created.excluded().stream().map(RestViews.RestExclusion::of).toList());
            return Reply.created(body);
        });
        add("GET", "/api/v1/cohorts", VIEWER, false, 0, c -> {
            Paging paging = Paging.of(c);
            return Reply.ok(paging.page("cohorts", s.cohorts().list(c.query("release")), k -> k.id(), Paging::numericKey,
                    k -> RestViews.RestCohort.of(k, null)));
        });
        add("GET", "/api/v1/cohorts/{id}", VIEWER, false, 0, c -> {
            var d = s.cohorts().get(c.pathLong("id"));
            return Reply.ok(RestViews.RestCohort.of(d.cohort(), d.members()));
        });
        add("POST", "/api/v1/cohorts/{id}/members", RELEASE_MANAGER, true, JSON_LIMIT, c -> {
            var req = c.json(RestRequests.MembersAdd.class);
            var added = s.cohorts().addMembers(c.principal(), c.pathLong("id"), req.devices(), req.reason());
            return Reply.ok(Map.of("cohort", RestViews.RestCohort.of(added.cohort(), null), "added", added.added(),
                    "alreadyMembers", added.alreadyMembers()));
        });

        add("POST", "/api/v1/incidents", OPERATOR, true, JSON_LIMIT, c -> {
            var w = c.json(RestRequests.IncidentWebhook.class);
            var out = s.incidents().report(c.principal(), new Incidents.Report(w.id(), w.severity(), w.state(), w.release(), w.title(), w.reason()));
            return Reply.ok(Map.of("incident", RestViews.RestIncident.of(out.incident()), "change", out.change().name().toLowerCase(java.util.Locale.ROOT)));
        });
        // Prometheus Alertmanager's webhook receiver (payload version 4), with a bearer token (http_config.authorization).
        add("POST", "/api/v1/incidents/alertmanager", OPERATOR, true, JSON_LIMIT, c -> {
            var reports = IncidentWebhooks.alertmanager(c.body());
            var who = new rsuota.fleet.domain.Principal("alertmanager:" + c.principal().label(), c.principal().role());
            return Reply.ok(Map.of("incidents", outcomes(s.incidents().reportAll(who, reports))));
        });
        // PagerDuty v3 webhooks carry no bearer token: the HMAC signature over the body with the subscription's secret is the credential.
        add("POST", "/api/v1/incidents/pagerduty", null, true, JSON_LIMIT, c -> {
            s.incidents().webhooks().verifyPagerDuty(c.body(), c.header("X-PagerDuty-Signature"));
            var report = IncidentWebhooks.pagerDuty(c.body());
            if (report == null) return Reply.ok(Map.of("incidents", List.of(), "ignored", "the event changes nothing the controller keeps"));
            return Reply.ok(Map.of("incidents", outcomes(s.incidents().reportAll(PAGERDUTY, List.of(report)))));
        });
        add("GET", "/api/v1/incidents", VIEWER, false, 0, c -> {
            var state = c.query("state") == null ? null : rsuota.fleet.domain.IncidentState.require(c.query("state"), "state");
            String release = Names.optionalName(c.query("release"), "release");
            Paging paging = Paging.of(c);
            var matching = s.incidents().list().stream()
                    .filter(i -> state == null || i.state() == state).filter(i -> release == null || release.equals(i.release())).toList();
            return Reply.ok(paging.page("incidents", matching, i -> i.id(), Paging::textKey, i -> RestViews.RestIncident.of(i)));
        });

        add("GET", "/api/v1/audit", VIEWER, false, 0, c -> {
            Paging paging = Paging.of(c);
            Instant from = instant(c, "from");
            Instant to = instant(c, "to");
            if (from != null && to != null && !to.isAfter(from)) throw FleetException.invalid("to", to + " is not after from " + from);
            String actor = Names.optionalText(c.query("actor"), "actor");
            var q = new AuditRepository.Query(from, to, actor == null || actor.isEmpty() ? null : actor);
            List<AuditEntry> page = s.audit().page(q, paging.afterNumber(), paging.limit() + 1);
            return Reply.ok(paging.answer("entries", page, e -> e.seq(), e -> RestViews.RestAuditEntry.of(e)));
        });
        add("GET", "/api/v1/audit/verify", VIEWER, false, 0, c -> Reply.ok(RestViews.RestVerification.of(s.audit().verify())));
        add("GET", "/api/v1/audit/checkpoint", VIEWER, false, 0, c -> {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            var newest = s.checkpoints().newest();
            if (newest != null) m.put("checkpoint", newest.fields());
            m.put("publicKey", s.checkpoints().publicKeyPem());
            return Reply.ok(m);
        });
        // Reads only: holds a checkpoint kept elsewhere against the chain as it is now.
        add("POST", "/api/v1/audit/checkpoint/verify", VIEWER, false, JSON_LIMIT, c -> {
            var r = s.checkpoints().check(rsuota.fleet.audit.AuditCheckpoints.Checkpoint.parse(new String(c.body(), java.nio.charset.StandardCharsets.UTF_8)));
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("ok", r.ok());
            if (r.problem() != null) m.put("problem", r.problem());
            m.put("entries", r.entries());
            m.put("checkpoint", r.checkpoint().fields());
            return Reply.ok(m);
        });
        add("GET", "/api/v1/audit/export", VIEWER, false, 0, c -> {
            StringBuilder lines = new StringBuilder();
            long after = 0;
            while (true) {
                List<AuditEntry> page = s.audit().page(after, AUDIT_PAGE_MAX);
                for (AuditEntry e : page) lines.append(json(RestViews.RestAuditEntry.of(e))).append('\n');
                if (page.size() < AUDIT_PAGE_MAX) break;
                after = page.get(page.size() - 1).seq();
            }
            return new Reply.Text(200, "application/x-ndjson", lines.toString());
        });

        add("GET", "/metrics", VIEWER, false, 0, c -> new Reply.Text(200, Metrics.CONTENT_TYPE, s.metrics().render()));

        // The contract of this table (OpenAPI 3.0). Viewer, not open: it is no secret (it ships with the
        // source), but a controller on a network answers strangers nothing by default, and whoever
        // generates a client holds a token for it anyway.
        String spec = OpenApiSpec.text();
        add("GET", "/api/v1/openapi.yaml", VIEWER, false, 0, c -> new Reply.Text(200, OpenApiSpec.CONTENT_TYPE, spec));
    }

    /** An ISO-8601 instant query parameter ("2026-12-04T10:00:00Z", or with an offset), null when absent. */
    private static Instant instant(Call c, String name) throws FleetException {
        String v = c.query(name);
        if (v == null || v.isEmpty()) return null;
        try {
            return OffsetDateTime.parse(v).toInstant();
        } catch (DateTimeParseException e) {
            throw FleetException.invalid(name, "'" + v + "' is not an ISO-8601 time such as 2026-12-04T10:00:00Z "
                    + "(encode '+' in an offset as %2B)");
        }
    }

    /** The actor of changes that PagerDuty's signed webhook makes. */
    static final rsuota.fleet.domain.Principal PAGERDUTY = new rsuota.fleet.domain.Principal("integration:pagerduty", OPERATOR);

    private static List<Map<String, Object>> outcomes(List<Incidents.Outcome> outcomes) {
        return outcomes.stream().map(o -> Map.<String, Object>of("incident", RestViews.RestIncident.of(o.incident()),
                "change", o.change().name().toLowerCase(java.util.Locale.ROOT))).toList();
    }

    /** Adds a row (for later parts of the controller: rollouts, pause rules). */
    public ApiRoutes add(String method, String pattern, Role role, boolean mutates, int maxBody, Endpoint endpoint) {
        routes.add(new Route(method, pattern, role, mutates, maxBody, endpoint));
        return this;
    }

    public List<Route> routes() {
        return List.copyOf(routes);
    }

    private static String json(Object o) throws FleetException {
        try {
            return ApiJson.MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new FleetException(ErrorCode.INTERNAL, "cannot serialise an audit entry: " + e.getOriginalMessage());
        }
    }
}
