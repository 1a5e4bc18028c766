package rsuota.lab.report;

import static rsuota.lab.report.Html.COLORS;
import static rsuota.lab.report.Html.PHASE_COLORS;
import static rsuota.lab.report.Html.esc;
import static rsuota.lab.report.Html.fmt;
import static rsuota.lab.report.Html.lab;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import rsuota.lab.run.PauseText;
import rsuota.lab.run.RunReport;
import rsuota.lab.run.Timeline;

/**
 * The report's timeline section: one SVG chart of every rollout's phases and every device's state
 * over lab time, with pauses, rollback orders, power cuts and hung boots marked, and its legend.
 */
final class TimelineChart {
    private TimelineChart() {}

    static final int LABEL = 170;
    static final int CHART = 900;
    static final int ROW = 20;

    static void section(StringBuilder h, RunReport r, double end) {
        h.append("<section><h2>Timeline</h2><p class=\"hint\">Lab time in seconds. Phases of each rollout, then every device's state; "
                + "red lines are pauses, dashed orange the rollback order, red triangles power cuts, crosses boots that hung. Hover for details.</p>");
        gantt(h, r, end);
        legend(h);
        h.append("</section>");
    }

    static double endSeconds(RunReport r) {
        double end = 1;
        for (Timeline.Event e : r.timeline()) end = Math.max(end, e.t() / 1000.0);
        return end;
    }

    private static double x(double seconds, double end) {
        return LABEL + Math.max(0, Math.min(1, seconds / end)) * CHART;
    }

    private static void gantt(StringBuilder h, RunReport r, double end) {
        List<String[]> phaseRows = new ArrayList<>();
        for (RunReport.Rollout ro : r.rollouts()) {
            for (JsonNode p : ro.status().path("phases")) phaseRows.add(new String[] {ro.release(), p.path("name").asText()});
        }
        int rows = phaseRows.size() + r.devices().size();
        int top = 24;
        int gap = 14;
        int height = top + rows * ROW + gap + 30;
        h.append("<svg width=\"").append(LABEL + CHART + 20).append("\" height=\"").append(height).append("\" role=\"img\" aria-label=\"timeline\">");
        ticks(h, end, top, height - 22);
        int y = top;
        Map<String, int[]> rolloutRows = new LinkedHashMap<>();
        for (RunReport.Rollout ro : r.rollouts()) {
            int first = y;
            for (JsonNode p : ro.status().path("phases")) {
                String name = p.path("name").asText();
                label(h, ro.release() + " · " + name, y);
                // The phase's own history: active, awaiting approval, passed, rolled back, each from when it began.
                List<RunReport.StateChange> mine = r.phaseHistory().stream().filter(c -> c.device().equals(ro.release() + "/" + name)).toList();
                for (int i = 0; i < mine.size(); i++) {
                    String state = mine.get(i).state();
                    if (state.equals("pending")) continue;
                    double s = Math.max(0, mine.get(i).t() / 1000.0);
                    double e = i + 1 < mine.size() ? mine.get(i + 1).t() / 1000.0 : end;
                    rect(h, x(s, end), y + 3, Math.max(1, x(e, end) - x(s, end)), ROW - 6, PHASE_COLORS.getOrDefault(state, "#999"),
                            name + ": " + state.replace('_', ' ') + " (" + fmt(s) + " s – " + fmt(e) + " s)");
                }
                y += ROW;
            }
            rolloutRows.put(ro.release(), new int[] {first, y});
        }
        y += gap;
        int devicesTop = y;
        Map<String, Integer> deviceRow = new LinkedHashMap<>();
        for (RunReport.Device d : r.devices()) {
            label(h, d.id() + "  " + d.variant(), y);
            deviceRow.put(d.id(), y);
            List<RunReport.StateChange> mine = r.history().stream().filter(c -> c.device().equals(d.id()) && c.state() != null).toList();
            for (int i = 0; i < mine.size(); i++) {
                double s = Math.max(0, mine.get(i).t() / 1000.0);
                double e = i + 1 < mine.size() ? mine.get(i + 1).t() / 1000.0 : end;
                if (e <= 0) continue;
                String st = mine.get(i).state();
                rect(h, x(s, end), y + 4, Math.max(1, x(e, end) - x(s, end)), ROW - 8, COLORS.getOrDefault(st, "#999"),
                        d.id() + ": " + st + ", running " + mine.get(i).running() + " (" + fmt(s) + " s – " + fmt(e) + " s)");
            }
            y += ROW;
        }
        for (Timeline.Event e : r.timeline()) {
            Integer row = deviceRow.get(e.subject());
            if (row == null || e.t() < 0) continue;
            if (e.kind().equals("power-cut")) powerCut(h, x(e.t() / 1000.0, end), row, e.text());
            if (e.kind().equals("boot-hang")) hang(h, x(e.t() / 1000.0, end), row, e.text());
        }
        for (JsonNode pe : r.pauses()) {
            double t = lab(pe.path("at"), r.labZero());
            if (Double.isNaN(t)) continue;
            double px = x(t, end);
            h.append("<line x1=\"").append(fmt(px)).append("\" x2=\"").append(fmt(px)).append("\" y1=\"").append(top - 6).append("\" y2=\"").append(y)
                    .append("\" stroke=\"#d64541\" stroke-width=\"2\"><title>").append(esc(PauseText.headline(pe))).append("</title></line>");
            String rule = pe.hasNonNull("rule") ? pe.path("rule").asText() : pe.path("cause").asText().toLowerCase(Locale.ROOT);
            // Near the right edge the label goes to the left of its line, so it stays inside the chart.
            boolean right = px > LABEL + CHART * 0.7;
            h.append("<text x=\"").append(fmt(right ? px - 4 : px + 4)).append("\" y=\"").append(top - 8).append("\" text-anchor=\"")
                    .append(right ? "end" : "start").append("\" style=\"fill:#d64541;font-weight:600\">paused: ").append(esc(rule)).append("</text>");
            double resumed = lab(pe.path("resumedAt"), r.labZero());
            if (!Double.isNaN(resumed)) {
                double rx = x(resumed, end);
                h.append("<line x1=\"").append(fmt(rx)).append("\" x2=\"").append(fmt(rx)).append("\" y1=\"").append(top).append("\" y2=\"").append(y)
                        .append("\" stroke=\"#2f9e5b\" stroke-width=\"2\" stroke-dasharray=\"4 3\"><title>resumed</title></line>");
            }
        }
        for (Timeline.Event e : r.timeline()) {
            if (!e.kind().equals("rollout") || !e.text().endsWith(": rolling_back")) continue;
            int[] span = rolloutRows.get(e.subject());
            if (span == null) continue;
            double rx = x(e.t() / 1000.0, end);
            h.append("<line x1=\"").append(fmt(rx)).append("\" x2=\"").append(fmt(rx)).append("\" y1=\"").append(span[0]).append("\" y2=\"").append(y)
                    .append("\" stroke=\"#e8743b\" stroke-width=\"2\" stroke-dasharray=\"6 3\"><title>").append(esc(e.text())).append("</title></line>");
        }
        h.append("<line x1=\"").append(LABEL).append("\" x2=\"").append(LABEL + CHART).append("\" y1=\"").append(devicesTop - gap / 2)
                .append("\" y2=\"").append(devicesTop - gap / 2).append("\" stroke=\"#c5ccd6\"/>");
        h.append("</svg>");
    }

    private static void ticks(StringBuilder h, double end, int top, int bottom) {
        double step = niceStep(end / 10);
        for (int i = 0; i * step <= end + 1e-9 && i < 200; i++) {
            double px = x(i * step, end);
            h.append("<line x1=\"").append(fmt(px)).append("\" x2=\"").append(fmt(px)).append("\" y1=\"").append(top).append("\" y2=\"").append(bottom)
                    .append("\" stroke=\"#eef1f4\"/>");
            h.append("<text x=\"").append(fmt(px)).append("\" y=\"").append(bottom + 14).append("\" text-anchor=\"middle\">").append(fmt(i * step))
                    .append(" s</text>");
        }
    }

    static double niceStep(double raw) {
        double[] steps = {0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600};
        for (double s : steps) if (s >= raw) return s;
        return 1200;
    }

    private static void label(StringBuilder h, String text, int y) {
        h.append("<text x=\"4\" y=\"").append(y + ROW - 6).append("\">").append(esc(text)).append("</text>");
    }

    private static void rect(StringBuilder h, double x, double y, double w, double height, String fill, String title) {
        h.append("<rect x=\"").append(fmt(x)).append("\" y=\"").append(fmt(y)).append("\" width=\"").append(fmt(Math.max(0.5, w))).append("\" height=\"")
                .append(fmt(height)).append("\" rx=\"2\" fill=\"").append(fill).append("\"><title>").append(esc(title)).append("</title></rect>");
    }

    /** A downward red triangle over the row: drawn, not a glyph, so it shows without any particular font. */
    private static void powerCut(StringBuilder h, double x, int rowTop, String title) {
        h.append("<polygon points=\"").append(fmt(x - 5)).append(',').append(rowTop).append(' ').append(fmt(x + 5)).append(',').append(rowTop)
                .append(' ').append(fmt(x)).append(',').append(rowTop + 9).append("\" fill=\"#d64541\" stroke=\"#fff\"><title>").append(esc(title))
                .append("</title></polygon>");
    }

    /** A small dark-red cross on the row: one hung boot. */
    private static void hang(StringBuilder h, double x, int rowTop, String title) {
        int c = rowTop + ROW / 2;
        h.append("<g stroke=\"#a61e1a\" stroke-width=\"2.2\"><title>").append(esc(title)).append("</title><line x1=\"").append(fmt(x - 4)).append("\" y1=\"")
                .append(c - 4).append("\" x2=\"").append(fmt(x + 4)).append("\" y2=\"").append(c + 4).append("\"/><line x1=\"").append(fmt(x - 4))
                .append("\" y1=\"").append(c + 4).append("\" x2=\"").append(fmt(x + 4)).append("\" y2=\"").append(c - 4).append("\"/></g>");
    }

    private static void legend(StringBuilder h) {
        h.append("<div class=\"legend\"><b>device</b>");
        COLORS.forEach((k, c) -> h.append("<span><i style=\"background:").append(c).append("\"></i>").append(esc(k.replace('_', ' '))).append("</span>"));
        h.append("</div><div class=\"legend\"><b>phase</b>");
        for (String k : List.of("active", "awaiting_approval", "passed", "rolled_back")) {
            h.append("<span><i style=\"background:").append(PHASE_COLORS.get(k)).append("\"></i>").append(k.replace('_', ' ')).append("</span>");
        }
        h.append("</div>");
    }
}
