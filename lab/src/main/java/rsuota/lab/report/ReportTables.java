package rsuota.lab.report;

import static rsuota.lab.report.Html.COLORS;
import static rsuota.lab.report.Html.esc;
import static rsuota.lab.report.Html.fmt;
import static rsuota.lab.report.Html.lab;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import rsuota.lab.run.PauseText;
import rsuota.lab.run.RunReport;
import rsuota.lab.run.Timeline;
import rsuota.lab.scenario.Units;

/**
 * The report's sections in words and tables: why the rollout paused, the devices at the end with
 * bytes fetched against their bound, the bundles, the audit trail and every event.
 */
final class ReportTables {
    private ReportTables() {}

    static void pauses(StringBuilder h, RunReport r) {
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

    static void devices(StringBuilder h, RunReport r) {
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
            if (bundles > d.bytesFetched()) h.append(" <span title=\"bytes not fetched, of the full bundles\">saved ").append(esc(TextReport.saved(d.bytesFetched(), bundles))).append("</span>");
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

    static void audit(StringBuilder h, RunReport r) {
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

    static void events(StringBuilder h, RunReport r) {
        h.append("<section><h2>Every event</h2><details><summary>").append(r.timeline().size()).append(" events (setup at negative lab times)</summary><table>");
        h.append("<tr><th class=\"num\">lab s</th><th>kind</th><th>subject</th><th>what happened</th></tr>");
        for (Timeline.Event e : r.timeline()) {
            h.append("<tr><td class=\"num\">").append(fmt(e.t() / 1000.0)).append("</td><td>").append(esc(e.kind())).append("</td><td>").append(esc(e.subject()))
                    .append("</td><td").append(e.kind().equals("pause") ? " class=\"breach\"" : "").append(">").append(esc(e.text())).append("</td></tr>");
        }
        h.append("</table></details></section>");
    }
}
