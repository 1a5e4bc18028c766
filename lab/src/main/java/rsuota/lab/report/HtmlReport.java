package rsuota.lab.report;

import static rsuota.lab.report.Html.COLORS;
import static rsuota.lab.report.Html.esc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import rsuota.lab.run.RunReport;
import rsuota.lab.scenario.Units;

/**
 * The run as one self-contained HTML page: verdict, a timeline chart (phases, pauses, every
 * device's state over time, power cuts and hung boots), KPI charts per cohort against their
 * thresholds, why the rollout paused, devices with bytes fetched against their bound, the audit
 * trail and the full event list. Inline CSS and SVG only: no scripts, fonts or CDNs, so it opens
 * from a CI artifact or a laptop without network.
 *
 * <p>This class is the page itself: its skeleton, styles, header and summary cards, and the order of
 * the sections; {@link TimelineChart}, {@link KpiCharts} and {@link ReportTables} draw them.
 */
public final class HtmlReport {
    private HtmlReport() {}

    public static void write(RunReport r, Path file) throws IOException {
        Files.writeString(file, page(r), StandardCharsets.UTF_8);
    }

    public static String page(RunReport r) {
        double end = TimelineChart.endSeconds(r);
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(r.title())).append("</title>");
        h.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>").append(CSS).append("</style></head><body>");
        header(h, r);
        TimelineChart.section(h, r, end);
        KpiCharts.kpis(h, r, end);
        ReportTables.pauses(h, r);
        ReportTables.devices(h, r);
        ReportTables.audit(h, r);
        ReportTables.events(h, r);
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
        long full = r.devices().stream().mapToLong(r::fullBytes).sum();
        if (full > 0) card(h, esc(TextReport.saved(fetched, full)), "saved of " + esc(Units.bytes(full)) + " of full bundles", null);
        card(h, Integer.toString(r.audit().size()), "audit entries" + (r.auditVerified() ? ", chain verified" : ", CHAIN BROKEN"), null);
        h.append("</div>");
    }

    private static void card(StringBuilder h, String big, String small, String color) {
        h.append("<div class=\"card\"").append(color == null ? "" : " style=\"border-top:4px solid " + color + "\"").append("><b>").append(big)
                .append("</b><span>").append(small).append("</span></div>");
    }
}
