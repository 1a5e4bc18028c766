package rsuota.lab.report;

import static rsuota.lab.report.Html.esc;
import static rsuota.lab.report.Html.fmt;
import static rsuota.lab.report.Html.lab;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import rsuota.lab.run.RunReport;

/**
 * The report's KPI section: per release and cohort, one small chart per pause rule's series against
 * its threshold (or a control comparison's two sides), with breaching points and the pauses marked.
 */
final class KpiCharts {
    private KpiCharts() {}

    private static final List<String> KPI_ORDER = List.of("availability-below", "lag-median-above", "lag-p95-above", "dropped-ratio-above",
            "rollback-rate-above");
    private static final Map<String, String> KPI_TITLES = Map.of("availability-below", "availability", "lag-median-above", "event lag median",
            "lag-p95-above", "event lag p95", "dropped-ratio-above", "dropped events", "rollback-rate-above", "rollback rate");

    /** "availability" for the cohort, "availability [variant=rsu-b2]" for a slice, "event lag median: control group (corridor)". */
    static String title(String series) {
        for (Map.Entry<String, String> e : KPI_TITLES.entrySet()) {
            if (series.startsWith(e.getKey())) return e.getValue() + series.substring(e.getKey().length());
        }
        return series;
    }

    static void kpis(StringBuilder h, RunReport r, double end) {
        if (r.kpis().isEmpty()) return;
        h.append("<section><h2>KPIs per cohort, as the pause rules saw them</h2><p class=\"hint\">Cohort aggregate over the rule window "
                + "(availability and dropped: mean; lag median: median of device medians; p95: p95 of device p95s). Dashed: the threshold; "
                + "red points breach it; red line: the pause.</p>");
        Map<String, List<RunReport.Series>> groups = new LinkedHashMap<>();
        for (RunReport.Series s : r.kpis()) groups.computeIfAbsent(s.release() + " · " + s.cohort(), k -> new ArrayList<>()).add(s);
        Map<String, double[]> ranges = new LinkedHashMap<>();
        for (RunReport.Series s : r.kpis()) {
            if (s.points().isEmpty()) continue;
            double[] rg = ranges.computeIfAbsent(s.release(), k -> new double[] {Double.MAX_VALUE, 0});
            rg[0] = Math.min(rg[0], s.points().get(0)[0]);
            rg[1] = Math.max(rg[1], s.points().get(s.points().size() - 1)[0]);
        }
        for (Map.Entry<String, List<RunReport.Series>> g : groups.entrySet()) {
            h.append("<h3>").append(esc(g.getKey())).append("</h3><div class=\"kpirow\">");
            String release = g.getValue().get(0).release();
            // Every chart of a release spans that rollout's active time, so its cohorts line up.
            double[] range = ranges.getOrDefault(release, new double[] {0, end});
            for (String rule : KPI_ORDER) {
                // The cohort's series first, then its slices ("availability-below [variant=rsu-b2]") and a control rule's two sides.
                for (RunReport.Series s : g.getValue()) {
                    if (!s.rule().equals(rule) && !s.rule().startsWith(rule + " ") && !s.rule().startsWith(rule + ":")) continue;
                    if (rule.equals("rollback-rate-above") && s.points().stream().allMatch(p -> p[1] == 0)) continue;
                    kpiChart(h, s, range[0], Math.max(range[1], range[0] + 1), pauseTimes(r, release));
                }
            }
            h.append("</div>");
        }
        h.append("</section>");
    }

    private static List<Double> pauseTimes(RunReport r, String release) {
        List<Double> out = new ArrayList<>();
        for (RunReport.Rollout ro : r.rollouts()) {
            if (!ro.release().equals(release)) continue;
            for (JsonNode pe : ro.status().path("pauses")) {
                double t = lab(pe.path("at"), r.labZero());
                if (!Double.isNaN(t)) out.add(t);
            }
        }
        return out;
    }

    private static void kpiChart(StringBuilder h, RunReport.Series s, double start, double end, List<Double> pauses) {
        int w = 260;
        int ht = 120;
        int l = 46;
        int b = 18;
        int t = 8;
        double lo;
        double hi;
        // A control comparison's two series (cohort, control group) have no threshold of their own: NaN.
        boolean thresholded = !Double.isNaN(s.threshold());
        double max = thresholded ? s.threshold() : Double.NEGATIVE_INFINITY;
        double min = thresholded ? s.threshold() : Double.POSITIVE_INFINITY;
        for (double[] p : s.points()) {
            max = Math.max(max, p[1]);
            min = Math.min(min, p[1]);
        }
        if (Double.isInfinite(max) || Double.isInfinite(min)) {
            max = 1;
            min = 0;
        }
        if (s.comparison().equals("<")) {
            hi = Math.max(1.0, max);
            lo = Math.max(0, min - (hi - min) * 0.15);
            if (hi - lo < 1e-6) lo = hi - 0.01;
        } else {
            lo = 0;
            hi = max * 1.15;
            // A ratio never exceeds 1: a 100 % rollback rate tops the chart instead of leaving headroom above it.
            if (s.unit().equals("ratio")) hi = Math.min(1.0, hi);
            if (hi <= 0) hi = 1;
        }
        double span = Math.max(1, end - start);
        double fLo = lo;
        double fHi = hi;
        java.util.function.DoubleUnaryOperator px = v -> l + (v - start) / span * (w - l - 6);
        java.util.function.DoubleUnaryOperator py = v -> t + (1 - (v - fLo) / (fHi - fLo)) * (ht - t - b);
        boolean breachedNow = !s.points().isEmpty() && breaches(s, s.points().get(s.points().size() - 1)[1]);
        String last = s.points().isEmpty() ? "–" : value(s, s.points().get(s.points().size() - 1)[1]);
        h.append("<div class=\"kpi\"><div class=\"t\">").append(esc(title(s.rule()))).append(" <span class=\"")
                .append(breachedNow ? "breach" : "ok").append("\">").append(esc(last)).append("</span> ")
                .append(thresholded ? esc(s.comparison().equals("<") ? "≥" : "≤") + " " + esc(value(s, s.threshold())) + " needed"
                        : "compared side by side with its control group").append("</div>");
        h.append("<svg width=\"").append(w).append("\" height=\"").append(ht).append("\">");
        h.append("<rect x=\"").append(l).append("\" y=\"").append(t).append("\" width=\"").append(w - l - 6).append("\" height=\"").append(ht - t - b)
                .append("\" fill=\"#fafbfc\" stroke=\"#e3e7ec\"/>");
        for (double v : new double[] {lo, (lo + hi) / 2, hi}) {
            h.append("<text x=\"").append(l - 4).append("\" y=\"").append(fmt(py.applyAsDouble(v) + 4)).append("\" text-anchor=\"end\">")
                    .append(esc(axis(s, v))).append("</text>");
        }
        h.append("<text x=\"").append(l).append("\" y=\"").append(ht - 4).append("\">").append(fmt(start)).append(" s</text>");
        h.append("<text x=\"").append(w - 6).append("\" y=\"").append(ht - 4).append("\" text-anchor=\"end\">").append(fmt(end)).append(" s</text>");
        if (thresholded) {
            double ty = py.applyAsDouble(s.threshold());
            h.append("<line x1=\"").append(l).append("\" x2=\"").append(w - 6).append("\" y1=\"").append(fmt(ty)).append("\" y2=\"").append(fmt(ty))
                    .append("\" stroke=\"#d64541\" stroke-dasharray=\"5 3\"/>");
        }
        StringBuilder path = new StringBuilder();
        for (double[] p : s.points()) {
            path.append(path.length() == 0 ? "M" : "L").append(fmt(px.applyAsDouble(p[0]))).append(' ').append(fmt(py.applyAsDouble(p[1]))).append(' ');
        }
        if (path.length() > 0) h.append("<path d=\"").append(path).append("\" fill=\"none\" stroke=\"#3f7fbf\" stroke-width=\"1.8\"/>");
        for (double[] p : s.points()) {
            if (!breaches(s, p[1])) continue;
            h.append("<circle cx=\"").append(fmt(px.applyAsDouble(p[0]))).append("\" cy=\"").append(fmt(py.applyAsDouble(p[1])))
                    .append("\" r=\"2.2\" fill=\"#d64541\"><title>").append(fmt(p[0])).append(" s: ").append(esc(value(s, p[1]))).append("</title></circle>");
        }
        for (double pt : pauses) {
            if (pt < start || pt > end) continue;
            double x = px.applyAsDouble(pt);
            h.append("<line x1=\"").append(fmt(x)).append("\" x2=\"").append(fmt(x)).append("\" y1=\"").append(t).append("\" y2=\"").append(ht - b)
                    .append("\" stroke=\"#d64541\" stroke-width=\"2\"/>");
        }
        h.append("</svg></div>");
    }

    private static boolean breaches(RunReport.Series s, double v) {
        return s.comparison().equals("<") ? v < s.threshold() : v > s.threshold();
    }

    private static String value(RunReport.Series s, double v) {
        return switch (s.unit()) {
            case "ms" -> v >= 1000 ? String.format(Locale.ROOT, "%.2f s", v / 1000) : Math.round(v) + " ms";
            case "ratio" -> s.rule().startsWith("availability") ? String.format(Locale.ROOT, "%.2f %%", v * 100)
                    : String.format(Locale.ROOT, "%.3f %%", v * 100);
            default -> fmt(v);
        };
    }

    private static String axis(RunReport.Series s, double v) {
        return switch (s.unit()) {
            case "ms" -> v >= 1000 ? String.format(Locale.ROOT, "%.1fs", v / 1000) : Math.round(v) + "ms";
            case "ratio" -> s.rule().startsWith("availability") ? String.format(Locale.ROOT, "%.1f%%", v * 100)
                    : v >= 0.1 ? String.format(Locale.ROOT, "%.0f%%", v * 100) : String.format(Locale.ROOT, "%.2f%%", v * 100);
            default -> fmt(v);
        };
    }
}
