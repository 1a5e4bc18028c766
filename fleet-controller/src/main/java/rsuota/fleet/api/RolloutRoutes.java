package rsuota.fleet.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import rsuota.fleet.diag.Diagnostics;
import rsuota.fleet.diag.DiagnosticsRequest;
import rsuota.fleet.domain.Durations;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.policy.PauseRule;
import rsuota.fleet.policy.RuleSet;
import rsuota.fleet.rollout.Approval;
import rsuota.fleet.rollout.ExitCriteria;
import rsuota.fleet.rollout.Rollout;
import rsuota.fleet.rollout.RolloutSettings;
import rsuota.fleet.rollout.RolloutStatus;
import rsuota.fleet.rollout.Rollouts;

import static rsuota.fleet.domain.Role.OPERATOR;
import static rsuota.fleet.domain.Role.RELEASE_MANAGER;
import static rsuota.fleet.domain.Role.VIEWER;

/**
 * The rollout and diagnostics rows of the route table. Request text (durations, thresholds,
 * approvals) becomes typed values here, once; a bad one is INVALID_REQUEST naming the field.
 */
public final class RolloutRoutes {
    private RolloutRoutes() {}

    /** A diagnostics chunk per request; devices on cellular send far smaller ones. */
    static final int UPLOAD_CHUNK_LIMIT = 8 << 20;

    public static void add(ApiRoutes routes, Rollouts rollouts, Diagnostics diagnostics) {
        routes.add("POST", "/api/v1/rollouts", RELEASE_MANAGER, true, ApiRoutes.JSON_LIMIT, c ->
                decided(rollouts.create(c.principal(), newRollout(c.json(RestRequests.RolloutCreate.class))), 201));
        routes.add("GET", "/api/v1/rollouts", VIEWER, false, 0, c -> {
            Paging paging = Paging.of(c);
            return Reply.ok(paging.page("rollouts", rollouts.list(c.query("release")), r -> r.id(), Paging::numericKey, r -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", r.id());
                m.put("release", r.release());
                m.put("state", r.state().wire());
                m.put("phaseIndex", r.phaseIndex());
                m.put("attention", r.attention());
                m.put("createdAt", r.createdAt());
                m.put("createdBy", r.createdBy());
                return m;
            }));
        });
        routes.add("GET", "/api/v1/rollouts/{id}", VIEWER, false, 0, c -> decided(rollouts.status(c.pathLong("id")), 200));
        routes.add("POST", "/api/v1/rollouts/{id}/start", RELEASE_MANAGER, true, ApiRoutes.JSON_LIMIT, c ->
                decided(rollouts.ifMatch(c.header("If-Match"), () -> rollouts.start(c.principal(), c.pathLong("id"), reason(c))), 200));
        routes.add("POST", "/api/v1/rollouts/{id}/pause", OPERATOR, true, ApiRoutes.JSON_LIMIT, c ->
                decided(rollouts.ifMatch(c.header("If-Match"), () -> rollouts.pause(c.principal(), c.pathLong("id"), reason(c))), 200));
        routes.add("POST", "/api/v1/rollouts/{id}/resume", RELEASE_MANAGER, true, ApiRoutes.JSON_LIMIT, c -> {
            var req = c.json(RestRequests.Resume.class);
            return decided(rollouts.ifMatch(c.header("If-Match"), () -> rollouts.resume(c.principal(), c.pathLong("id"), req.reason(),
                    req.acknowledge())), 200);
        });
        routes.add("POST", "/api/v1/rollouts/{id}/advance", RELEASE_MANAGER, true, ApiRoutes.JSON_LIMIT, c ->
                decided(rollouts.ifMatch(c.header("If-Match"), () -> rollouts.advance(c.principal(), c.pathLong("id"), reason(c))), 200));
        routes.add("GET", "/api/v1/releases/{version}/notes", VIEWER, false, 0, c -> {
            String format = c.query("format") == null ? "json" : c.query("format");
            var notes = rollouts.notes(c.pathParam("version"));
            return switch (format) {
                case "json" -> Reply.ok(notes);
                case "md", "markdown" -> new Reply.Text(200, "text/markdown; charset=utf-8", notes.markdown());
                default -> throw FleetException.invalid("format", "'" + format + "' is not md or json");
            };
        });
        routes.add("POST", "/api/v1/releases/{version}/withdraw", RELEASE_MANAGER, true, ApiRoutes.JSON_LIMIT, c -> {
            String version = c.pathParam("version");
            List<Long> touched = rollouts.withdraw(c.principal(), version, reason(c));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("release", version);
            m.put("rollouts", touched);
            return Reply.ok(m);
        });
        routes.add("POST", "/api/v1/rollouts/{id}/extend", RELEASE_MANAGER, true, ApiRoutes.JSON_LIMIT, c -> {
            var req = c.json(RestRequests.Extend.class);
            return decided(rollouts.ifMatch(c.header("If-Match"), () -> rollouts.extend(c.principal(), c.pathLong("id"), req.by(), req.reason())), 200);
        });
        routes.add("POST", "/api/v1/rollouts/{id}/rollback", OPERATOR, true, ApiRoutes.JSON_LIMIT, c -> {
            var req = c.json(RestRequests.Rollback.class);
            Rollouts.RollbackScope scope;
            try {
                scope = req.scope() == null ? Rollouts.RollbackScope.ROLLOUT : Rollouts.RollbackScope.valueOf(req.scope().trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw FleetException.invalid("scope", "'" + req.scope() + "' is not a scope (rollout, phase, cohort or device)");
            }
            return decided(rollouts.ifMatch(c.header("If-Match"), () -> rollouts.rollback(c.principal(), c.pathLong("id"),
                    new Rollouts.RollbackRequest(scope, req.phase(), req.cohort(), req.device(), req.reason()))), 200);
        });

        routes.add("POST", "/api/v1/rollouts/{id}/devices/{device}/clear", OPERATOR, true, ApiRoutes.JSON_LIMIT, c ->
                decided(rollouts.ifMatch(c.header("If-Match"), () -> rollouts.clearFlag(c.principal(), c.pathLong("id"), c.pathParam("device"),
                        reason(c))), 200));

        routes.add("POST", "/api/v1/devices/{id}/diagnostics", OPERATOR, true, ApiRoutes.JSON_LIMIT, c ->
                Reply.created(view(diagnostics.request(c.principal(), c.pathParam("id"), c.body().length == 0 ? null : reason(c)))));
        routes.add("GET", "/api/v1/diagnostics/{id}", VIEWER, false, 0, c -> Reply.ok(view(diagnostics.get(c.pathLong("id")))));
        routes.add("GET", "/api/v1/diagnostics/{id}/archive", OPERATOR, false, 0, c -> {
            long id = c.pathLong("id");
            return new Reply.File(200, "application/octet-stream", diagnostics.archive(id), "diagnostics-" + id + ".bundle");
        });
        // Device uploads: the path's capability is the credential (a device holds no bearer token),
        // and they are telemetry, not operator actions, so they are not audited.
        routes.add("PUT", "/uploads/diagnostics/{capability}", null, true, UPLOAD_CHUNK_LIMIT, c -> {
            var p = diagnostics.upload(c.pathParam("capability"), c.header("content-range"), c.body());
            return Reply.ok(Map.of("id", p.id(), "received", p.received(), "total", p.total(), "complete", p.complete()));
        });
        routes.add("HEAD", "/uploads/diagnostics/{capability}", null, false, 0, c -> {
            var p = diagnostics.received(c.pathParam("capability"));
            Map<String, String> h = new LinkedHashMap<>();
            h.put("X-Received-Length", Long.toString(p.received()));
            if (p.total() != null) h.put("X-Total-Length", Long.toString(p.total()));
            if (p.received() > 0) h.put("Range", "bytes=0-" + (p.received() - 1));
            return new Reply.Head(200, h);
        });
    }

    /** A rollout's status with its ETag header, which the next decision may send back as If-Match. */
    private static Reply decided(rsuota.fleet.rollout.RolloutStatus st, int status) {
        return new Reply.Json(status, st, Map.of("ETag", "\"" + st.etag() + "\""));
    }

    private static String reason(Call c) throws FleetException {
        return c.body().length == 0 ? null : c.json(RestRequests.Reason.class).reason();
    }

    static Map<String, Object> view(DiagnosticsRequest d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", d.id());
        m.put("device", d.deviceId());
        m.put("command", d.commandId());
        m.put("requestedAt", d.requestedAt());
        m.put("requestedBy", d.requestedBy());
        m.put("expiresAt", d.expiresAt());
        if (d.ackedAt() != null) m.put("ackedAt", d.ackedAt());
        if (d.ackResult() != null) m.put("ackResult", d.ackResult());
        m.put("received", d.received());
        if (d.total() != null) m.put("total", d.total());
        m.put("complete", d.complete());
        if (d.completedAt() != null) m.put("completedAt", d.completedAt());
        return m;
    }

    static Rollouts.NewRollout newRollout(RestRequests.RolloutCreate req) throws FleetException {
        List<Rollouts.NewPhase> phases = null;
        if (req.phases() != null) {
            phases = new ArrayList<>();
            for (int i = 0; i < req.phases().size(); i++) {
                var p = req.phases().get(i);
                String f = "phases[" + i + "]";
                ExitCriteria ec = null;
                if (p.criteria() != null) {
                    var k = p.criteria();
                    ec = typed(f + ".criteria", () -> new ExitCriteria(k.minSuccessRatio() == null ? 1.0 : k.minSuccessRatio(),
                            k.maxFailed() == null ? 0 : k.maxFailed(), k.maxSilent() == null ? 0 : k.maxSilent()));
                }
                phases.add(new Rollouts.NewPhase(p.cohortId(), p.cohort(), p.name(),
                        p.observation() == null ? null : Durations.parse(p.observation(), f + ".observation"),
                        Approval.require(p.approval(), f + ".approval"), ec));
            }
        }
        RolloutSettings settings = null;
        if (req.settings() != null) {
            var s = req.settings();
            RolloutSettings d = RolloutSettings.defaults();
            Duration silent = Durations.optional(s.silentAfter(), d.silentAfter(), "settings.silentAfter");
            Duration deadline = Durations.optional(s.rollbackDeadline(), d.rollbackDeadline(), "settings.rollbackDeadline");
            Duration delay = s.activateDelay() == null ? null : Durations.parse(s.activateDelay(), "settings.activateDelay");
            String window = rsuota.fleet.domain.Names.optionalText(s.window(), "settings.window");
            Long cap = null;
            if (s.bandwidthCap() != null) {
                try {
                    rsuota.wire.Bandwidth b = rsuota.wire.Bandwidth.parse(s.bandwidthCap());
                    cap = b.isUnlimited() ? null : b.bytesPerSecond();
                } catch (IllegalArgumentException e) {
                    throw FleetException.invalid("settings.bandwidthCap", e.getMessage());
                }
            }
            Long bandwidthCap = cap;
            settings = typed("settings", () -> new RolloutSettings(s.corridorCap(), silent, deadline, window, delay, bandwidthCap));
        }
        return new Rollouts.NewRollout(req.release(), phases, settings, req.rules() == null ? null : rules(req.rules()), req.scale(), req.reason());
    }

    static RuleSet rules(RestRequests.Rules req) throws FleetException {
        RuleSet d = RuleSet.defaults();
        Duration window = Durations.optional(req.window(), d.window(), "rules.window");
        List<PauseRule> out = new ArrayList<>();
        List<RestRequests.Rule> list = req.rules() == null ? List.of() : req.rules();
        for (int i = 0; i < list.size(); i++) {
            var r = list.get(i);
            String f = "rules.rules[" + i + "]";
            Duration sustained = Durations.optional(r.sustained(), RuleSet.DEFAULT_SUSTAINED, f + ".sustained");
            int min = r.minDevices() == null ? 1 : r.minDevices();
            String name = r.rule() == null ? "" : r.rule();
            boolean kpiRule = List.of(PauseRule.AvailabilityBelow.NAME, PauseRule.LagMedianAbove.NAME, PauseRule.LagP95Above.NAME,
                    PauseRule.DroppedRatioAbove.NAME).contains(name);
            if (!kpiRule && !name.equals(PauseRule.DeviceOutliers.NAME) && (r.slices() != null || r.control() != null)) {
                throw FleetException.invalid(f + ".slices", "rule " + name + " is not judged per device KPI: slices and control apply to "
                        + "availability-below, lag-median-above, lag-p95-above, dropped-ratio-above (and slices to device-outliers)");
            }
            if (!name.equals(PauseRule.DeviceOutliers.NAME) && (r.kpi() != null || r.maxDevices() != null)) {
                throw FleetException.invalid(f + ".kpi", "kpi and maxDevices belong to rule device-outliers, not " + name);
            }
            List<String> slices = r.slices();
            PauseRule.Control control = r.control() == null ? null : typed(f + ".control", () -> new PauseRule.Control(r.control().by(),
                    r.control().compare() == null ? "difference" : r.control().compare(), r.control().limit() == null ? Double.NaN : r.control().limit(),
                    r.control().minDevices() == null ? 1 : r.control().minDevices()));
            out.add(typed(f, () -> switch (name) {
                case PauseRule.AvailabilityBelow.NAME -> new PauseRule.AvailabilityBelow(ratio(r.threshold(), f), sustained, min, slices, control);
                case PauseRule.LagMedianAbove.NAME -> new PauseRule.LagMedianAbove(lag(r.threshold(), f), sustained, min, slices, control);
                case PauseRule.LagP95Above.NAME -> new PauseRule.LagP95Above(lag(r.threshold(), f), sustained, min, slices, control);
                case PauseRule.DroppedRatioAbove.NAME -> new PauseRule.DroppedRatioAbove(ratio(r.threshold(), f), sustained, min, slices, control);
                case PauseRule.RollbackRateAbove.NAME -> new PauseRule.RollbackRateAbove(ratio(r.threshold(), f), sustained, min);
                case PauseRule.OpenSev1.NAME -> new PauseRule.OpenSev1(sustained);
                case PauseRule.DeviceOutliers.NAME -> {
                    if (r.kpi() == null) throw new IllegalArgumentException("kpi is required for device-outliers " + PauseRule.DeviceOutliers.KPIS);
                    if (r.control() != null) throw new IllegalArgumentException("device-outliers judges single devices: no control group");
                    double threshold = r.kpi().startsWith("lag") ? lag(r.threshold(), f).toMillis() : ratio(r.threshold(), f);
                    yield new PauseRule.DeviceOutliers(r.kpi(), threshold, r.maxDevices() == null ? 0 : r.maxDevices(), sustained, min, slices);
                }
                default -> throw new IllegalArgumentException("unknown rule '" + name + "' (availability-below, lag-median-above, lag-p95-above, "
                        + "dropped-ratio-above, device-outliers, rollback-rate-above, open-sev1)");
            }));
        }
        int version = req.version() == null ? d.version() : req.version();
        List<PauseRule> rules = out.isEmpty() ? d.rules() : out;
        return typed("rules", () -> new RuleSet(version, window, rules));
    }

    private static double ratio(JsonNode n, String f) {
        if (n == null || !n.isNumber()) throw new IllegalArgumentException(f + ".threshold must be a number within 0..1");
        double v = n.asDouble();
        if (!(v >= 0 && v <= 1)) throw new IllegalArgumentException(f + ".threshold must be a number within 0..1, got " + n.asText());
        return v;
    }

    private static Duration lag(JsonNode n, String f) {
        if (n == null || !n.isTextual()) throw new IllegalArgumentException(f + ".threshold must be a duration such as \"2s\"");
        try {
            return Durations.parse(n.asText(), f + ".threshold");
        } catch (FleetException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    interface Maker<T> {
        T make();
    }

    /** Record constructors refuse bad values with IllegalArgumentException; the API reports them as INVALID_REQUEST. */
    private static <T> T typed(String field, Maker<T> m) throws FleetException {
        try {
            return m.make();
        } catch (IllegalArgumentException e) {
            throw FleetException.invalid(field, e.getMessage());
        }
    }
}
