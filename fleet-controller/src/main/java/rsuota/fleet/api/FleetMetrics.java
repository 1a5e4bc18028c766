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

        head(out, "rsuota_cohort_devices", "Devices of each rollout cohort per bucket (queued, in_progress, succeeded, failed, rolled_back, silent).", "gauge");
        StringBuilder kpi = new StringBuilder();
        StringBuilder thr = new StringBuilder();
        StringBuilder breached = new StringBuilder();
        for (Rollout r : all) {
            if (!r.state().active()) continue;
            RolloutStatus st = rollouts.status(r.id());
            for (RolloutStatus.PhaseView p : st.phases()) {
                if (p.state().equals("pending")) continue;
                String labels = "release=\"" + Metrics.label(st.release()) + "\",rollout=\"" + st.id() + "\",cohort=\"" + Metrics.label(p.cohort()) + "\"";
                p.buckets().forEach((b, n) -> out.append("rsuota_cohort_devices{").append(labels).append(",bucket=\"").append(b).append("\"} ")
                        .append(n).append('\n'));
                for (RolloutStatus.Kpi k : p.kpis()) {
                    StringBuilder slice = new StringBuilder();
                    k.slice().forEach((d, v) -> slice.append(slice.length() == 0 ? "" : ",").append(d).append('=').append(v));
                    String l = labels + ",rule=\"" + k.rule() + "\",slice=\"" + Metrics.label(slice.toString()) + "\"";
                    if (k.observed() != null) kpi.append("rsuota_cohort_kpi{").append(l).append("} ").append(k.observed()).append('\n');
                    thr.append("rsuota_cohort_kpi_threshold{").append(l).append("} ").append(k.threshold()).append('\n');
                    breached.append("rsuota_cohort_rule_breached{").append(l).append("} ").append(k.verdict().equals("breach") ? 1 : 0).append('\n');
                }
            }
        }
        head(out, "rsuota_cohort_kpi", "Observed value of each pause rule's KPI over each active cohort (unit as the rule's).", "gauge");
        out.append(kpi);
        head(out, "rsuota_cohort_kpi_threshold", "Threshold of each pause rule per active cohort.", "gauge");
        out.append(thr);
        head(out, "rsuota_cohort_rule_breached", "1 while a pause rule's threshold is crossed over the cohort (not yet necessarily sustained).", "gauge");
        out.append(breached);

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

    private static void head(StringBuilder out, String name, String help, String type) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n').append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }
}
