package rsuota.agent.health;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import rsuota.wire.MqttState.Kpis;

/**
 * KPIs from a Prometheus text-format endpoint on the box, e.g. {@code http://127.0.0.1:9100/metrics}.
 * Each KPI is one selected sample; lags are multiplied by {@code lagToMs} (1000 when the application
 * exposes seconds, as Prometheus naming prefers).
 */
public record PrometheusKpiSource(URI endpoint, MetricSelector availability, MetricSelector lagMedian, MetricSelector lagP95,
                                  MetricSelector droppedRatio, double lagToMs, Duration timeout) implements KpiSource {

    @Override
    public Kpis read() throws IOException {
        LocalHttp.Response r = LocalHttp.get(endpoint, timeout, "text/plain;version=0.0.4", true);
        if (r.status() / 100 != 2) throw new IOException("GET " + endpoint + " returned HTTP " + r.status());
        List<PrometheusText.Sample> samples = PrometheusText.parse(new String(r.body(), StandardCharsets.UTF_8), endpoint.toString());
        String origin = endpoint.toString();
        return new Kpis(
                availability.select(samples, origin),
                lagMedian.select(samples, origin) * lagToMs,
                lagP95.select(samples, origin) * lagToMs,
                droppedRatio.select(samples, origin));
    }

    @Override
    public String describe() {
        return "prometheus " + endpoint;
    }
}
