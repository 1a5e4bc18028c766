package rsuota.fleet.incident;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Incident;
import rsuota.fleet.domain.IncidentState;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.domain.Names;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Severity;
import rsuota.fleet.store.Database;

/**
 * Incidents as an incident tool reports them: each webhook call opens, updates or resolves the
 * incident with the tool's id. Pause rules read {@code IncidentRepository.openFor(release)}.
 */
public final class Incidents {
    /**
     * One webhook delivery. Only id is always required; severity is required for an incident the
     * controller has not seen; state defaults to open.
     */
    public record Report(String id, String severity, String state, String release, String title, String reason) {}

    /** What a report changed. */
    public enum Change {
        OPENED("incident.open"), UPDATED("incident.update"), RESOLVED("incident.resolve"), REOPENED("incident.reopen");

        private final String action;

        Change(String action) {
            this.action = action;
        }

        /** The audit action recorded for this change. */
        public String action() {
            return action;
        }
    }

    public record Outcome(Incident incident, Change change) {}

    private final Database db;
    private final AuditLog audit;
    private final Clock clock;
    private final IncidentWebhooks webhooks = new IncidentWebhooks();

    public Incidents(Database db, AuditLog audit, Clock clock) {
        this.db = db;
        this.audit = audit;
        this.clock = clock;
    }

    /** Applies a report (audited as incident.open, .update, .resolve or .reopen). */
    public Outcome report(Principal who, Report r) throws FleetException {
        return reportAll(who, List.of(r)).get(0);
    }

    /**
     * Applies several reports in one transaction, in order (an incident tool's batch): every
     * report is checked before anything is written, and a refusal of one changes nothing.
     */
    public List<Outcome> reportAll(Principal who, List<Report> reports) throws FleetException {
        List<Checked> checked = new java.util.ArrayList<>();
        for (int i = 0; i < reports.size(); i++) checked.add(check(reports.get(i)));
        Instant now = Millis.now(clock);
        return db.write(tx -> {
            List<Outcome> out = new java.util.ArrayList<>();
            for (Checked c : checked) out.add(apply(tx, who, c, now));
            return out;
        });
    }

    private record Checked(String id, IncidentState state, Severity severity, String release, String title, String reason) {}

    private static Checked check(Report r) throws FleetException {
        return new Checked(Names.requireDeviceId(r.id(), "id"),
                r.state() == null ? IncidentState.OPEN : IncidentState.require(r.state(), "state"),
                r.severity() == null ? null : Severity.require(r.severity(), "severity"),
                Names.optionalName(r.release(), "release"), Names.optionalText(r.title(), "title"), Names.optionalText(r.reason(), "reason"));
    }

    private Outcome apply(rsuota.fleet.store.Tx tx, Principal who, Checked c, Instant now) throws java.sql.SQLException, FleetException {
        String id = c.id();
        IncidentState state = c.state();
        Severity severity = c.severity();
        Optional<Incident> old = tx.incidents().find(id);
        if (old.isEmpty() && severity == null) {
            throw FleetException.invalid("severity", "is required for an incident the controller has not seen (" + id + ")");
        }
        Incident prev = old.orElse(null);
        Incident next = new Incident(id,
                severity != null ? severity : prev.severity(),
                state,
                c.release() != null ? c.release() : prev == null ? null : prev.release(),
                c.title() != null ? c.title() : prev == null ? null : prev.title(),
                prev == null ? now : prev.openedAt(),
                now,
                state == IncidentState.RESOLVED ? (prev != null && prev.resolvedAt() != null ? prev.resolvedAt() : now) : null);
        Change change = prev == null ? (state == IncidentState.RESOLVED ? Change.RESOLVED : Change.OPENED)
                : prev.state() == IncidentState.OPEN && state == IncidentState.RESOLVED ? Change.RESOLVED
                : prev.state() == IncidentState.RESOLVED && state == IncidentState.OPEN ? Change.REOPENED
                : Change.UPDATED;
        tx.incidents().upsert(next);
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("severity", next.severity().wire());
        detail.put("state", next.state().wire());
        if (next.release() != null) detail.put("release", next.release());
        audit.append(tx, who, change.action(), "incident:" + id, c.reason(), detail);
        return new Outcome(next, change);
    }

    /** The incident tools' own webhooks (Alertmanager, PagerDuty) and their configuration. */
    public IncidentWebhooks webhooks() {
        return webhooks;
    }

    public List<Incident> list() throws FleetException {
        return db.read(tx -> tx.incidents().list());
    }
}
