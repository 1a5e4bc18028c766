package rsuota.agent.health;

import java.io.IOException;
import rsuota.wire.MqttState.Kpis;

/**
 * Where the roadside application's service KPIs come from: availability (0..1), event lag median
 * and p95 (milliseconds), dropped-event ratio (0..1). The commit check compares them with
 * thresholds; the link reports them in the device state.
 *
 * <p>{@link #read()} fails with an {@link IOException} saying which source, which KPI and what is
 * wrong (unreachable endpoint, missing metric, malformed line); it never returns partial values.
 * A value the application reports as NaN is returned as NaN: the thresholds decide what it means.
 */
public interface KpiSource {

    Kpis read() throws IOException;

    /** For messages, e.g. "prometheus http://127.0.0.1:9100/metrics". */
    String describe();
}
