package rsuota.fleet.api;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.link.ControllerLink;
import rsuota.fleet.link.DesiredStatePublisher;
import rsuota.fleet.link.TelemetryIngest;
import rsuota.fleet.policy.PromSeries;
import rsuota.fleet.rollout.Rollout;
import rsuota.fleet.rollout.RolloutState;
import rsuota.fleet.rollout.RolloutStatus;
import rsuota.fleet.rollout.Rollouts;

/**
 * Rollout and link series: rollouts per state; per cohort of every active rollout the device
 * buckets, each rule's observed value and threshold; the MQTT link's traffic and refusals.
 */
public final class FleetMetrics implements Metrics.Source {
    private final Rollouts rollouts;
    private final TelemetryIngest ingest;
    private final DesiredStatePublisher publisher;
    private final Supplier<ControllerLink> link;

    public FleetMetrics(Rollouts rollouts, TelemetryIngest ingest, DesiredStatePublisher publisher, Supplier<ControllerLink> link) {
        this.rollouts = rollouts;
        this.ingest = ingest;
        this.publisher = publisher;
        this.link = link;
    }

    @Override
    public void render(StringBuilder out) throws FleetException {
        List<Rollout> all = rollouts.list(null);
        Map<String, Integer> byState = new TreeMap<>();
        for (RolloutState s : RolloutState.values()) byState.put(s.wire(), 0);
        for (Rollout r : all) byState.merge(r.state().wire(), 1, Integer::sum);
        head(out, "rsuota_rollouts", "Rollouts per state.", "gauge");
        byState.forEach((s, n) -> out.append("rsuota_rollouts{state=\"").append(s).append("\"} ").append(n).append('\n'));

        // Per rollout, phase, cohort and slice: what the rules judge, in Prometheus base units, so a dashboard or an
        // alert rule reads the same numbers the pause explanations carry. Labels are bounded: no per-device series.
        Map<String, StringBuilder> series = new java.util.LinkedHashMap<>();
        for (String[] m : PromSeries.KPI_METRICS) series.put(m[1], new StringBuilder());
        for (String[] m : ROLLOUT_SERIES) series.put(m[0], new StringBuilder());
        for (Rollout r : all) {
            if (!r.state().active()) continue;
            RolloutStatus st = rollouts.status(r.id());
            String rl = "release=\"" + Metrics.label(st.release()) + "\",rollout=\"" + st.id() + "\"";
            series.get("rsuota_rollout_paused").append("rsuota_rollout_paused{").append(rl).append("} ").append(st.state().equals("paused") ? 1 : 0).append('\n');
            Map<String, Integer> causes = new TreeMap<>();
            for (String c : List.of("rule", "operator", "rollback")) causes.put(c, 0);
            st.pauses().forEach(p -> causes.merge(p.cause().name().toLowerCase(Locale.ROOT), 1, Integer::sum));
            causes.forEach((c, n) -> series.get("rsuota_rollout_pauses_total").append("rsuota_rollout_pauses_total{").append(rl)
                    .append(",cause=\"").append(c).append("\"} ").append(n).append('\n'));
            int local = 0;
            int commanded = 0;
            int overdue = 0;
            for (RolloutStatus.PhaseView p : st.phases()) {
                for (RolloutStatus.DeviceView d : p.devices()) {
                    if ("local".equals(d.rollback())) local++;
                    else if ("commanded".equals(d.rollback())) commanded++;
                    if (d.overdue() && "needs_investigation".equals(d.rollbackResult())) overdue++;
                }
            }
            series.get("rsuota_rollout_rollbacks_total").append("rsuota_rollout_rollbacks_total{").append(rl).append(",kind=\"local\"} ").append(local)
                    .append('\n').append("rsuota_rollout_rollbacks_total{").append(rl).append(",kind=\"commanded\"} ").append(commanded).append('\n');
            series.get("rsuota_rollback_overdue_devices").append("rsuota_rollback_overdue_devices{").append(rl).append("} ").append(overdue).append('\n');
            for (RolloutStatus.PhaseView p : st.phases()) {
                if (p.state().equals("pending")) continue;
                String labels = rl + ",phase=\"" + Metrics.label(p.name()) + "\",cohort=\"" + Metrics.label(p.cohort()) + "\"";
                p.buckets().forEach((b, n) -> series.get("rsuota_cohort_devices").append("rsuota_cohort_devices{").append(labels).append(",bucket=\"")
                        .append(b).append("\"} ").append(n).append('\n'));
                for (RolloutStatus.Kpi k : p.kpis()) {
                    String[] m = PromSeries.metricOf(k.rule());
                    if (m == null) continue;
                    String sl = labels + ",slice=\"" + Metrics.label(PromSeries.sliceLabel(k.slice())) + "\"";
                    double scale = m[2].equals("seconds") ? 0.001 : 1;
                    Double value = k.control() != null ? Double.valueOf(k.control().judgedValue()) : k.observed();
                    if (value != null && Double.isFinite(value)) {
                        series.get(m[1]).append(m[1]).append('{').append(sl).append("} ").append(value * scale).append('\n');
                    }
                    if (k.control() != null) {
                        for (String side : List.of("cohort", "control")) {
                            double v = side.equals("cohort") ? k.control().judgedValue() : k.control().controlValue();
                            if (!Double.isFinite(v)) continue;
                            series.get("rsuota_cohort_control_value").append("rsuota_cohort_control_value{").append(sl).append(",rule=\"")
                                    .append(k.rule()).append("\",side=\"").append(side).append("\"} ").append(v * scale).append('\n');
                        }
                    }
                    if (k.slice().isEmpty() && k.control() == null && !m[2].equals("devices")) {
                        String t = m[2].equals("seconds") ? "rsuota_rule_threshold_seconds" : "rsuota_rule_threshold_ratio";
                        series.get(t).append(t).append('{').append(labels).append(",rule=\"").append(k.rule()).append("\"} ").append(k.threshold() * scale)
                                .append('\n');
                    }
                    series.get("rsuota_rule_verdict").append("rsuota_rule_verdict{").append(sl).append(",rule=\"").append(k.rule())
                            .append("\",verdict=\"").append(k.verdict()).append("\"} 1\n");
                }
            }
        }
        for (String[] m : PromSeries.KPI_METRICS) {
            head(out, m[1], m[3], "gauge");
            out.append(series.get(m[1]));
        }
        for (String[] m : ROLLOUT_SERIES) {
            head(out, m[0], m[2], m[1]);
            out.append(series.get(m[0]));
        }

        // Flags outlive the rollout that raised them (a rolled-back rollout's unit that never confirmed): counted across all.
        head(out, "rsuota_devices_needs_investigation", "Units flagged needs_investigation (missed rollback deadline, or reported so) per rollout.", "gauge");
        Map<Long, String> releaseOf = new TreeMap<>();
        for (Rollout r : all) releaseOf.put(r.id(), r.release());
        rollouts.flagged().forEach((id, devices) -> out.append("rsuota_devices_needs_investigation{release=\"")
                .append(Metrics.label(releaseOf.getOrDefault(id, ""))).append("\",rollout=\"").append(id).append("\"} ").append(devices.size()).append('\n'));

        head(out, "rsuota_mqtt_messages_total", "Device messages accepted by kind; duplicates and gaps of event seq numbers.", "counter");
        ingest.counters().forEach((k, n) -> out.append("rsuota_mqtt_messages_total{kind=\"").append(k).append("\"} ").append(n).append('\n'));
        head(out, "rsuota_mqtt_refused_total", "Device messages refused, by reason.", "counter");
        for (TelemetryIngest.Refusal r : TelemetryIngest.Refusal.values()) {
            out.append("rsuota_mqtt_refused_total{reason=\"").append(r.name().toLowerCase(Locale.ROOT)).append("\"} ")
                    .append(ingest.refusals().getOrDefault(r, 0L)).append('\n');
        }
        ControllerLink l = link.get();
        Metrics.gauge(out, "rsuota_mqtt_connected", "1 while the controller is connected to its broker.", l != null && l.connected() ? 1 : 0);
        Metrics.gauge(out, "rsuota_mqtt_backlog", "Device messages received and not yet stored.", l == null ? 0 : l.backlog());
        head(out, "rsuota_published_total", "Desired states and commands confirmed by the broker.", "counter");
        out.append("rsuota_published_total{kind=\"desired\"} ").append(publisher.desiredPublished()).append('\n');
        out.append("rsuota_published_total{kind=\"command\"} ").append(publisher.commandsPublished()).append('\n');
    }

    /** name, type, help of the rollout series besides the KPIs, in the order /metrics lists them. */
    static final String[][] ROLLOUT_SERIES = {
            {"rsuota_cohort_devices", "gauge", "Units of each rollout phase per bucket (queued, in_progress, succeeded, failed, rollback_pending, "
                    + "rolled_back, needs_investigation, silent)."},
            {"rsuota_cohort_control_value", "gauge", "A control rule's KPI over the cohort (side=cohort) and over its control group (side=control), "
                    + "in the KPI's base unit."},
            {"rsuota_rule_threshold_ratio", "gauge", "Threshold of a ratio rule (availability, dropped events, rollback rate) per cohort."},
            {"rsuota_rule_threshold_seconds", "gauge", "Threshold of a lag rule per cohort."},
            {"rsuota_rule_verdict", "gauge", "1 for each rule's current verdict (clear, breach, inconclusive) per cohort and slice."},
            {"rsuota_rollout_paused", "gauge", "1 while the rollout is paused."},
            {"rsuota_rollout_pauses_total", "counter", "Pause events of the rollout by cause (rule, operator, rollback)."},
            {"rsuota_rollout_rollbacks_total", "counter", "Units of the rollout that rolled back, by kind (local: fell back by itself; commanded)."},
            {"rsuota_rollback_overdue_devices", "gauge", "Units that missed their rollback deadline and have not confirmed since."}};

    private static void head(StringBuilder out, String name, String help, String type) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n').append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }
}
