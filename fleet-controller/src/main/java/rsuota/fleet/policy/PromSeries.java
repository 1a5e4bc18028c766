package rsuota.fleet.policy;

import java.util.Map;

/**
 * The Prometheus series each rule's KPI is exposed as on {@code /metrics} (fleet.api.FleetMetrics),
 * and the PromQL of one finding, for the graph link of a pause event: one table, so the metrics,
 * the links, docs/prometheus and docs/grafana name the same series.
 */
public final class PromSeries {
    private PromSeries() {}

    /** Rule -> {rule, metric, unit kind, help}: the KPI each rule judges, as a Prometheus series. */
    public static final String[][] KPI_METRICS = {
            {"availability-below", "rsuota_cohort_availability_ratio", "ratio", "Availability (0..1) over the rule window: mean of the units' means."},
            {"lag-median-above", "rsuota_cohort_event_lag_median_seconds", "seconds", "Event lag over the rule window: median of the units' medians."},
            {"lag-p95-above", "rsuota_cohort_event_lag_p95_seconds", "seconds", "Event lag over the rule window: nearest-rank p95 of the units' p95s."},
            {"dropped-ratio-above", "rsuota_cohort_dropped_events_ratio", "ratio", "Dropped-event ratio (0..1) over the rule window: mean of the units' means."},
            {"rollback-rate-above", "rsuota_cohort_rollback_ratio", "ratio", "Share of dispatched units that fell back by themselves (failed trial boot or health)."},
            {"device-outliers", "rsuota_cohort_outlier_devices", "devices", "Units whose own KPI crosses the device-outliers threshold."}};

    public static String[] metricOf(String rule) {
        for (String[] m : KPI_METRICS) if (m[0].equals(rule)) return m;
        return null;
    }

    /** The PromQL series a rule's value is exposed as, for a pause event's graph link. */
    public static String expr(String rule, String release, long rollout, String cohort, Map<String, String> slice) {
        String[] m = metricOf(rule);
        if (m == null) return "rsuota_incidents_open{severity=\"sev1\"}";
        return m[1] + "{release=\"" + release + "\",rollout=\"" + rollout + "\",cohort=\"" + cohort + "\",slice=\"" + sliceLabel(slice) + "\"}";
    }

    public static String sliceLabel(Map<String, String> slice) {
        StringBuilder b = new StringBuilder();
        slice.forEach((d, v) -> b.append(b.length() == 0 ? "" : ",").append(d).append('=').append(v));
        return b.toString();
    }

}
