package rsuota.lab.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import rsuota.lab.run.PauseText;
import rsuota.lab.run.RunReport;
import rsuota.lab.run.Timeline;
import rsuota.lab.scenario.Units;

/**
 * The run as one self-contained HTML page: verdict, a timeline chart (phases, pauses, every
 * device's state over time, power cuts and hung boots), KPI charts per cohort against their
 * thresholds, why the rollout paused, devices with bytes fetched against their bound, the audit
 * trail and the full event list. Inline CSS and SVG only: no scripts, fonts or CDNs, so it opens
 * from a CI artifact or a laptop without network.
 */
public final class HtmlReport {
    private HtmlReport() {}

    static final int LABEL = 170;
    static final int CHART = 900;
    static final int ROW = 20;

    /** Fill colours by device or phase state: one palette for the chart, the pills and the legend. */
    static final Map<String, String> COLORS = new LinkedHashMap<>();

    static {
        COLORS.put("idle", "#d5dae1");
        COLORS.put("pending", "#9cc3ea");
        COLORS.put("downloading", "#5b9bd5");
        COLORS.put("verified", "#3f7fbf");
        COLORS.put("awaiting_window", "#7fa7cf");
        COLORS.put("activating", "#f0b429");
        COLORS.put("committing", "#e39b14");
        COLORS.put("activated", "#2f9e5b");
        COLORS.put("rolling_back", "#e8743b");
        COLORS.put("rolled_back", "#8e7cc3");
        COLORS.put("failed", "#d64541");
        COLORS.put("needs_investigation", "#a61e1a");
        COLORS.put("off", "#2b2b2b");
    }

    static final Map<String, String> PHASE_COLORS = Map.of("pending", "#e3e7ec", "active", "#5b9bd5", "awaiting_approval", "#f0b429",
            "passed", "#2f9e5b", "rolled_back", "#8e7cc3");

    public static void write(RunReport r, Path file) throws IOException {
        Files.writeString(file, page(r), StandardCharsets.UTF_8);
    }

    public static String page(RunReport r) {
        double end = endSeconds(r);
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(r.title())).append("</title>");
        h.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>").append(CSS).append("</style></head><body>");
        header(h, r);
        h.append("<section><h2>Timeline</h2><p class=\"hint\">Lab time in seconds. Phases of each rollout, then every device's state; "
                + "red lines are pauses, dashed orange the rollback order, red triangles power cuts, crosses boots that hung. Hover for details.</p>");
        gantt(h, r, end);
        legend(h);
        h.append("</section>");
        kpis(h, r, end);
        pauses(h, r);
        devices(h, r);
        audit(h, r);
        events(h, r);
        h.append("<footer>RSU OTA lab · scenario ").append(esc(r.scenario())).append(" · started ").append(esc(r.startedAt().toString()))
                .append(" · report.json holds the same data</footer></body></html>\n");
        return h.toString();
    }

    private static final String CSS = """
            :root{--ink:#1d2430;--muted:#5f6b7a;--line:#e3e7ec;--bg:#f6f8fa;--card:#fff;--red:#d64541;--green:#2f9e5b}
            *{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
            header{background:#1d2430;color:#fff;padding:22px 32px}header h1{margin:0 0 4px;font-size:22px;font-weight:600}
            header p{margin:4px 0;color:#c9d1db;max-width:1100px}.badge{display:inline-block;padding:3px 12px;border-radius:12px;font-weight:700;font-size:13px;margin-right:10px}
            .pass{background:var(--green);color:#fff}.fail{background:var(--red);color:#fff}
            section{background:var(--card);margin:18px 32px;padding:18px 22px;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
            h2{margin:0 0 10px;font-size:17px}h3{margin:14px 0 6px;font-size:14px}.hint{color:var(--muted);margin:0 0 10px;font-size:12.5px}
            .cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 32px 0}.card{background:var(--card);border-radius:10px;padding:12px 16px;min-width:150px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
            .card b{display:block;font-size:22px}.card span{color:var(--muted);font-size:12px}
            .failures{background:#fdecea;border-left:4px solid var(--red);margin:16px 32px 0;padding:10px 16px;border-radius:6px}
            table{border-collapse:collapse;width:100%;font-size:12.5px}th{text-align:left;color:var(--muted);font-weight:600;border-bottom:2px solid var(--line);padding:5px 8px}
            td{border-bottom:1px solid var(--line);padding:5px 8px;vertical-align:top}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
            td.who{white-space:nowrap}
            .pill{display:inline-block;padding:1px 8px;border-radius:9px;color:#fff;font-size:11.5px;font-weight:600}
            .legend{display:flex;flex-wrap:wrap;gap:10px;margin-top:8px;font-size:12px;color:var(--muted)}.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:4px;vertical-align:-2px}
            .pause{border-left:4px solid var(--red);background:#fff7f6;padding:10px 14px;margin:10px 0;border-radius:6px}
            .pause pre{margin:6px 0 0;white-space:pre-wrap;font:12.5px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace}
            .kpirow{display:flex;flex-wrap:wrap;gap:10px}.kpi{border:1px solid var(--line);border-radius:8px;padding:6px 8px}
            .kpi .t{font-size:12px;color:var(--muted)}.breach{color:var(--red);font-weight:600}.ok{color:var(--green);font-weight:600}
            svg text{font:11px system-ui,sans-serif;fill:#44505f}details summary{cursor:pointer;color:var(--muted)}
            footer{color:var(--muted);font-size:12px;margin:10px 32px 30px}code{font-size:12px}
            """;

    // ------------------------------------------------------------------ header and cards

    private static void header(StringBuilder h, RunReport r) {
        h.append("<header><h1>").append(esc(r.title())).append("</h1><p><span class=\"badge ").append(r.passed() ? "pass\">PASSED" : "fail\">FAILED")
                .append("</span>").append(esc(Units.human(Duration.ofMillis((long) (r.seconds() * 1000))))).append(" · ").append(r.devices().size())
                .append(" roadside units · ").append(esc(r.broker())).append("</p>");
        if (!r.description().isEmpty()) h.append("<p>").append(esc(r.description())).append("</p>");
        h.append("</header>");
        if (!r.failures().isEmpty()) {
            h.append("<div class=\"failures\"><b>Expectations not met</b><ul>");
            for (String f : r.failures()) h.append("<li>").append(esc(f)).append("</li>");
            h.append("</ul></div>");
        }
        Map<String, Integer> states = new LinkedHashMap<>();
        for (RunReport.Device d : r.devices()) states.merge(d.state() == null ? "unknown" : d.state(), 1, Integer::sum);
        h.append("<div class=\"cards\">");
        for (RunReport.Rollout ro : r.rollouts()) {
            card(h, esc(ro.state().replace('_', ' ')), "rollout of " + esc(ro.release()), COLORS.getOrDefault(ro.state(), null));
        }
        states.forEach((st, n) -> card(h, Integer.toString(n), esc(st.replace('_', ' ')) + (n == 1 ? " unit" : " units"), COLORS.get(st)));
        card(h, Integer.toString(r.pauses().size()), r.pauses().size() == 1 ? "pause event" : "pause events", r.pauses().isEmpty() ? null : "#d64541");
        long fetched = r.devices().stream().mapToLong(RunReport.Device::bytesFetched).sum();
        card(h, esc(Units.bytes(fetched)), "fetched by the fleet", null);
        card(h, Integer.toString(r.audit().size()), "audit entries" + (r.auditVerified() ? ", chain verified" : ", CHAIN BROKEN"), null);
        h.append("</div>");
    }

    private static void card(StringBuilder h, String big, String small, String color) {
        h.append("<div class=\"card\"").append(color == null ? "" : " style=\"border-top:4px solid " + color + "\"").append("><b>").append(big)
                .append("</b><span>").append(small).append("</span></div>");
    }

    // ------------------------------------------------------------------ timeline chart

    private static double endSeconds(RunReport r) {
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

    // ------------------------------------------------------------------ KPI charts

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

    private static void kpis(StringBuilder h, RunReport r, double end) {
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

    // ------------------------------------------------------------------ pauses, devices, audit, events

    private static void pauses(StringBuilder h, RunReport r) {
        h.append("<section><h2>Why the rollout paused</h2>");
        if (r.pauses().isEmpty()) h.append("<p>No pause: every rule stayed clear over every cohort.</p>");
        for (JsonNode pe : r.pauses()) {
            h.append("<div class=\"pause\"><b>").append(esc(PauseText.headline(pe))).append("</b><pre>");
            for (String line : PauseText.explain(pe, r.labZero())) h.append(esc(line)).append('\n');
            for (String line : PauseText.aftermath(pe, r.audit(), r.labZero())) h.append("<b>").append(esc(line)).append("</b>\n");
            h.append("</pre></div>");
        }
        h.append("</section>");
    }

    private static void devices(StringBuilder h, RunReport r) {
        h.append("<section><h2>Devices at the end, and bytes fetched against the bound</h2><p class=\"hint\">Bytes are counted on each unit's own "
                + "network path (HTTP headers included). Bound: its bundles + one chunk per cut + the 32 KiB header fetch + HTTP framing. "
                + "Bar: fetched (blue) within the bound (grey); the tick marks the bundle sizes.</p>");
        h.append("<table><tr><th>device</th><th>variant</th><th>corridor</th><th>cohorts</th><th>state</th><th>runs</th><th>slots</th><th>last error</th>"
                + "<th>fetched / bound</th><th class=\"num\">cuts</th><th class=\"num\">boots</th><th class=\"num\">power cuts</th></tr>");
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (RunReport.Bundle b : r.bundles()) sizes.put(b.release(), b.bytes());
        for (RunReport.Device d : r.devices()) {
            String st = d.state() == null ? "unknown" : d.state();
            h.append("<tr><td><b>").append(esc(d.id())).append("</b></td><td>").append(esc(d.variant())).append("</td><td>").append(esc(d.corridor()))
                    .append("</td><td>").append(esc(String.join(", ", d.cohorts()))).append("</td><td><span class=\"pill\" style=\"background:")
                    .append(COLORS.getOrDefault(st, "#999")).append("\">").append(esc(st.replace('_', ' '))).append("</span></td><td>")
                    .append(esc(String.valueOf(d.running()))).append("</td><td>");
            for (var s : d.slots()) {
                h.append(s.booted() ? "<b>" : "").append(esc(s.name() + ": " + (s.release() == null ? "–" : s.release()) + " " + s.state()))
                        .append(s.booted() ? "</b>" : "").append("<br>");
            }
            h.append("</td><td>").append(d.error() == null ? "" : "<span title=\"" + esc(String.valueOf(d.errorMessage())) + "\">" + esc(d.error()) + "</span>")
                    .append("</td><td>");
            long bundles = d.downloads().stream().mapToLong(v -> sizes.getOrDefault(v, 0L)).sum();
            bytesBar(h, d.bytesFetched(), d.bound(), bundles);
            h.append(" ").append(esc(Units.bytes(d.bytesFetched()))).append(" / ").append(esc(Units.bytes(d.bound())));
            if (d.bytesFetched() > d.bound()) h.append(" <span class=\"breach\">over</span>");
            h.append("</td><td class=\"num\">").append(d.cuts()).append("</td><td class=\"num\">").append(d.boots())
                    .append(d.hangs() > 0 ? " (" + d.hangs() + " hung)" : "").append("</td><td class=\"num\">").append(d.powerCuts()).append("</td></tr>");
        }
        h.append("</table><h3>Bundles</h3><table><tr><th>release</th><th class=\"num\">size</th><th class=\"num\">header</th><th class=\"num\">chunks</th>"
                + "<th>fault profile (inside the signed image)</th></tr>");
        for (RunReport.Bundle b : r.bundles()) {
            h.append("<tr><td>").append(esc(b.release())).append("</td><td class=\"num\">").append(esc(Units.bytes(b.bytes()))).append("</td><td class=\"num\">")
                    .append(esc(Units.bytes(b.header()))).append("</td><td class=\"num\">").append(b.chunks()).append(" × ").append(esc(Units.bytes(b.chunkSize())))
                    .append("</td><td>").append(esc(b.profile())).append("</td></tr>");
        }
        h.append("</table></section>");
    }

    private static void bytesBar(StringBuilder h, long fetched, long bound, long bundles) {
        int w = 140;
        double scale = Math.max(1, Math.max(bound, fetched));
        h.append("<svg width=\"").append(w).append("\" height=\"10\" style=\"vertical-align:middle\"><rect width=\"").append(fmt(w * bound / scale))
                .append("\" height=\"10\" rx=\"2\" fill=\"#e3e7ec\"/><rect width=\"").append(fmt(w * fetched / scale)).append("\" height=\"10\" rx=\"2\" fill=\"")
                .append(fetched > bound ? "#d64541" : "#5b9bd5").append("\"/>");
        if (bundles > 0) {
            h.append("<rect x=\"").append(fmt(Math.min(w - 2, w * bundles / scale))).append("\" width=\"2\" height=\"10\" fill=\"#1d2430\"/>");
        }
        h.append("</svg>");
    }

    private static void audit(StringBuilder h, RunReport r) {
        h.append("<section><h2>Audit trail</h2><p class=\"hint\">").append(r.audit().size()).append(" entries, hash chain ")
                .append(r.auditVerified() ? "<span class=\"ok\">verified</span>" : "<span class=\"breach\">BROKEN</span>")
                .append(". Who did what, when and why, as the controller recorded it.</p>");
        h.append("<table><tr><th class=\"num\">#</th><th class=\"num\">lab time</th><th>actor</th><th>action</th><th>target</th><th>reason</th><th>detail</th></tr>");
        for (JsonNode e : r.audit()) {
            double t = lab(e.path("at"), r.labZero());
            String detail = e.path("detail").toString();
            h.append("<tr><td class=\"num\">").append(e.path("seq").asLong()).append("</td><td class=\"num\">").append(Double.isNaN(t) ? "" : fmt(t) + " s")
                    .append("</td><td class=\"who\">").append(esc(e.path("actor").asText())).append("<br><span class=\"hint\">").append(esc(e.path("role").asText()))
                    .append("</span></td><td><code>").append(esc(e.path("action").asText())).append("</code></td><td>").append(esc(e.path("target").asText()))
                    .append("</td><td>").append(esc(e.path("reason").asText(""))).append("</td><td><code>")
                    .append(esc(detail.length() > 110 ? detail.substring(0, 110) + "…" : detail)).append("</code></td></tr>");
        }
        h.append("</table></section>");
    }

    private static void events(StringBuilder h, RunReport r) {
        h.append("<section><h2>Every event</h2><details><summary>").append(r.timeline().size()).append(" events (setup at negative lab times)</summary><table>");
        h.append("<tr><th class=\"num\">lab s</th><th>kind</th><th>subject</th><th>what happened</th></tr>");
        for (Timeline.Event e : r.timeline()) {
            h.append("<tr><td class=\"num\">").append(fmt(e.t() / 1000.0)).append("</td><td>").append(esc(e.kind())).append("</td><td>").append(esc(e.subject()))
                    .append("</td><td").append(e.kind().equals("pause") ? " class=\"breach\"" : "").append(">").append(esc(e.text())).append("</td></tr>");
        }
        h.append("</table></details></section>");
    }

    // ------------------------------------------------------------------ helpers

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
