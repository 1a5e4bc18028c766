package rsuota.agent.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PrometheusTextTest {

    static final String EXPOSITION = String.join("\n",
            "# HELP rsu_app_availability_ratio Share of time the service was up.",
            "# TYPE rsu_app_availability_ratio gauge",
            "rsu_app_availability_ratio 0.9991",
            "",
            "# A free comment line",
            "# TYPE rsu_app_event_lag_seconds summary",
            "rsu_app_event_lag_seconds{quantile=\"0.5\"} 0.12",
            "rsu_app_event_lag_seconds{quantile=\"0.95\",corridor=\"A9\"} 0.8 1764547200000",
            "rsu_app_event_lag_seconds_sum 1234.5",
            "rsu_app_event_lag_seconds_count 10000",
            "rsu_app_dropped_ratio{ } 1e-4",
            "rsu_app_weird{path=\"C:\\\\tmp\",msg=\"say \\\"hi\\\"\\nbye\",} NaN",
            "rsu_app_max\t+Inf",
            "rsu_app_min -Inf\r",
            "   ",
            "");

    @Test
    void parsesCommentsLabelsEscapesSpecialValuesAndTimestamps() throws Exception {
        List<PrometheusText.Sample> s = PrometheusText.parse(EXPOSITION, "test");
        assertThat(s).hasSize(9);
        assertThat(s.get(0)).isEqualTo(new PrometheusText.Sample("rsu_app_availability_ratio", Map.of(), 0.9991));
        assertThat(s.get(2).labels()).containsExactly(Map.entry("quantile", "0.95"), Map.entry("corridor", "A9"));
        assertThat(s.get(2).value()).isEqualTo(0.8);
        assertThat(s.get(5).value()).isEqualTo(1e-4);
        assertThat(s.get(6).labels()).containsEntry("path", "C:\\tmp").containsEntry("msg", "say \"hi\"\nbye");
        assertThat(s.get(6).value()).isNaN();
        assertThat(s.get(7).value()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(s.get(8).value()).isEqualTo(Double.NEGATIVE_INFINITY);
    }

    @Test
    void selectorsPickOneSampleByNameAndLabels() throws Exception {
        List<PrometheusText.Sample> s = PrometheusText.parse(EXPOSITION, "test");
        assertThat(MetricSelector.parse("rsu_app_event_lag_seconds{quantile=\"0.95\"}").select(s, "test")).isEqualTo(0.8);
        assertThat(MetricSelector.parse(" rsu_app_availability_ratio ").select(s, "test")).isEqualTo(0.9991);
        assertThatThrownBy(() -> MetricSelector.parse("rsu_app_event_lag_seconds").select(s, "test"))
                .hasMessageContaining("test: 2 samples match rsu_app_event_lag_seconds")
                .hasMessageContaining("add labels to the selector");
        assertThatThrownBy(() -> MetricSelector.parse("rsu_app_event_lag_seconds{quantile=\"0.99\"}").select(s, "test"))
                .hasMessageContaining("no sample matches rsu_app_event_lag_seconds{quantile=\"0.99\"} (9 samples read");
        assertThatThrownBy(() -> MetricSelector.parse("rsu_lag{quantile=0.5}"))
                .isInstanceOf(PrometheusFormatException.class).hasMessageContaining("column 18: expected '\"'");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "rsu_x{a=\"1\"                       | line 3, column 12: labels not closed with '}'",
            "rsu_x{a=\"1} 2                      | line 3, column 14: label value not closed with '\"'",
            "rsu_x{a=1} 2                        | line 3, column 9: expected '\"'",
            "rsu_x{1a=\"1\"} 2                   | line 3, column 7: expected a label name",
            "rsu_x{a=\"1\",a=\"2\"} 2            | line 3, column 18: label 'a' appears twice",
            "rsu_x{a=\"\\t\"} 2                  | unknown escape '\\t'",
            "rsu_x{a=\"1\" b=\"2\"} 2            | expected ',' or '}' after label 'a'",
            "rsu_x                               | line 3, column 6: line ends too early",
            "rsu_x abc                           | line 3, column 10: value 'abc' is not a number",
            "rsu_x 1d                            | value '1d' is not a number",
            "rsu_x 0x10                          | value '0x10' is not a number",
            "rsu_x Infinity                      | value 'Infinity' is not a number",
            "rsu_x 1 12.5                        | timestamp '12.5' is not an integer",
            "rsu_x 1 12 extra                    | unexpected text after the timestamp",
            "9rsu 1                              | line 3, column 1: expected a metric name",
            "rsü 1                               | line 3, column 3: expected a space",
            "# TYPE rsu_x gauges                 | line 3, column 20: TYPE 'gauges' is not one of counter, gauge",
            "# TYPE rsu_x                        | line 3, column 13: line ends too early"})
    void malformedLinesAreRejectedNamingTheLine(String bad, String message) {
        String text = "# TYPE rsu_ok gauge\nrsu_ok 1\n" + bad + "\nrsu_after 2\n";
        assertThatThrownBy(() -> PrometheusText.parse(text, "http://127.0.0.1:9100/metrics"))
                .isInstanceOf(PrometheusFormatException.class)
                .hasMessageStartingWith("http://127.0.0.1:9100/metrics, line 3, column ")
                .hasMessageContaining(message)
                .hasMessageEndingWith(": " + bad)
                .satisfies(e -> assertThat(((PrometheusFormatException) e).line()).isEqualTo(3));
    }

    @Test
    void aHugeBadLineIsQuotedOnlyInPart() {
        String bad = "rsu_x " + "9".repeat(1000) + "x";
        assertThatThrownBy(() -> PrometheusText.parse(bad, "m"))
                .hasMessageEndingWith("...")
                .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(1300));
    }
}
