package rsuota.fleet.api;

import java.util.Map;
import java.util.TreeMap;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Incident;
import rsuota.fleet.domain.IncidentState;
import rsuota.fleet.domain.Severity;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.Table;

/**
 * Prometheus text exposition (format 0.0.4), computed from the store at scrape time so that it
 * is right after a restart and needs no in-memory state.
 */
public final class Metrics {
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** More series, rendered after the store's own (rollouts, cohorts, the MQTT link). */
    @FunctionalInterface
    public interface Source {
        void render(StringBuilder out) throws FleetException;
    }

    private final Database db;
    private final HttpCounters http;
    private final java.util.List<Source> sources = new java.util.concurrent.CopyOnWriteArrayList<>();

    public Metrics(Database db, HttpCounters http) {
        this.db = db;
        this.http = http;
    }

    public Metrics add(Source s) {
        sources.add(s);
        return this;
    }

    public String render() throws FleetException {
        StringBuilder out = new StringBuilder();
        db.read(tx -> {
            gauge(out, "rsuota_devices", "Registered devices.", tx.count(Table.DEVICES));
            out.append("# HELP rsuota_devices_by_variant Registered devices per variant.\n# TYPE rsuota_devices_by_variant gauge\n");
            for (Map.Entry<String, Long> e : tx.devices().countByVariant().entrySet()) {
                out.append("rsuota_devices_by_variant{variant=\"").append(label(e.getKey())).append("\"} ").append(e.getValue()).append('\n');
            }
            gauge(out, "rsuota_releases", "Releases created.", tx.count(Table.RELEASES));
            gauge(out, "rsuota_cohorts", "Cohorts across all releases.", tx.count(Table.COHORTS));
            gauge(out, "rsuota_cohort_members", "Cohort memberships across all releases.", tx.count(Table.COHORT_MEMBERS));
            Map<Severity, Long> open = new TreeMap<>();
            for (Severity s : Severity.values()) open.put(s, 0L);
            for (Incident i : tx.incidents().list()) {
                if (i.state() == IncidentState.OPEN) open.merge(i.severity(), 1L, Long::sum);
            }
            out.append("# HELP rsuota_incidents_open Open incidents per severity.\n# TYPE rsuota_incidents_open gauge\n");
            open.forEach((s, n) -> out.append("rsuota_incidents_open{severity=\"").append(s.wire()).append("\"} ").append(n).append('\n'));
            gauge(out, "rsuota_audit_entries", "Entries in the audit chain.", tx.count(Table.AUDIT));
            return null;
        });
        out.append("# HELP rsuota_http_responses_total API responses by status code.\n# TYPE rsuota_http_responses_total counter\n");
        http.snapshot().forEach((code, n) -> out.append("rsuota_http_responses_total{code=\"").append(code).append("\"} ").append(n).append('\n'));
        for (Source s : sources) s.render(out);
        return out.toString();
    }

    static void gauge(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" gauge\n")
                .append(name).append(' ').append(value).append('\n');
    }

    /** Label values escape backslash, quote and newline (exposition format rules). */
    static String label(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
