package rsuota.lab.report;

import rsuota.wire.DeploymentState;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What every section of the HTML report shares: the state palette, escaping, number format and the
 * lab time of an instant.
 */
final class Html {
    private Html() {}

    /** Fill colours by device or phase state: one palette for the chart, the pills and the legend. */
    /** A unit without power: the lab's own word beside the deployment states. */
    static final String POWERED_OFF = "off";
    static final Map<String, String> COLORS = new LinkedHashMap<>();

    static {
        COLORS.put(DeploymentState.IDLE.wire(), "#d5dae1");
        COLORS.put(DeploymentState.PENDING.wire(), "#9cc3ea");
        COLORS.put(DeploymentState.DOWNLOADING.wire(), "#5b9bd5");
        COLORS.put(DeploymentState.VERIFIED.wire(), "#3f7fbf");
        COLORS.put(DeploymentState.AWAITING_WINDOW.wire(), "#7fa7cf");
        COLORS.put(DeploymentState.ACTIVATING.wire(), "#f0b429");
        COLORS.put(DeploymentState.COMMITTING.wire(), "#e39b14");
        COLORS.put(DeploymentState.ACTIVATED.wire(), "#2f9e5b");
        COLORS.put(DeploymentState.ROLLING_BACK.wire(), "#e8743b");
        COLORS.put(DeploymentState.ROLLED_BACK.wire(), "#8e7cc3");
        COLORS.put(DeploymentState.FAILED.wire(), "#d64541");
        COLORS.put(DeploymentState.NEEDS_INVESTIGATION.wire(), "#a61e1a");
        COLORS.put(POWERED_OFF, "#2b2b2b");
    }

    static final Map<String, String> PHASE_COLORS = Map.of("pending", "#e3e7ec", "active", "#5b9bd5", "awaiting_approval", "#f0b429",
            "passed", "#2f9e5b", "rolled_back", "#8e7cc3");

    static double lab(JsonNode instant, Instant zero) {
        if (instant == null || !instant.isTextual()) return Double.NaN;
        try {
            return Duration.between(zero, Instant.parse(instant.asText())).toMillis() / 1000.0;
        } catch (java.time.format.DateTimeParseException e) {
            return Double.NaN;
        }
    }

    static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) return Long.toString((long) v);
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String esc(String s) {
        if (s == null) return "";
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
