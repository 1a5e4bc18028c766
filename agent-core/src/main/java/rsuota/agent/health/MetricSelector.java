package rsuota.agent.health;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Which Prometheus sample is a KPI: a metric name plus labels that must match (others may exist),
 * e.g. {@code rsu_app_event_lag_seconds{quantile="0.95"}}.
 */
public record MetricSelector(String name, Map<String, String> labels) {

    public MetricSelector {
        labels = Map.copyOf(labels);
    }

    /** Parses the config form; throws naming the column that is wrong. */
    public static MetricSelector parse(String text) throws PrometheusFormatException {
        return PrometheusText.parseSelector(text);
    }

    public boolean matches(PrometheusText.Sample s) {
        if (!s.name().equals(name)) return false;
        for (Map.Entry<String, String> e : labels.entrySet()) {
            if (!e.getValue().equals(s.labels().get(e.getKey()))) return false;
        }
        return true;
    }

    /** The one sample this selects; fails when none or several match (then more labels are needed). */
    public double select(List<PrometheusText.Sample> samples, String origin) throws IOException {
        List<PrometheusText.Sample> hits = samples.stream().filter(this::matches).toList();
        if (hits.isEmpty()) {
            throw new IOException(origin + ": no sample matches " + this + " (" + samples.size()
                    + " samples read; check the metric name and labels in the config)");
        }
        if (hits.size() > 1) {
            throw new IOException(origin + ": " + hits.size() + " samples match " + this + ", e.g. "
                    + hits.stream().limit(3).map(MetricSelector::text).collect(Collectors.joining(", "))
                    + "; add labels to the selector to pick one");
        }
        return hits.get(0).value();
    }

    private static String text(PrometheusText.Sample s) {
        return s.labels().isEmpty() ? s.name() : s.name() + s.labels().entrySet().stream()
                .map(e -> e.getKey() + "=\"" + e.getValue() + "\"").collect(Collectors.joining(",", "{", "}"));
    }

    @Override
    public String toString() {
        return labels.isEmpty() ? name : name + labels.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + "=\"" + e.getValue() + "\"").collect(Collectors.joining(",", "{", "}"));
    }
}
