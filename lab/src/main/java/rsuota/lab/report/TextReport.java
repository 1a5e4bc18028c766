package rsuota.lab.report;

import rsuota.wire.DeploymentState;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Set;
import rsuota.lab.run.PauseText;
import rsuota.lab.run.RunReport;
import rsuota.lab.run.Timeline;
import rsuota.lab.scenario.Units;

/** The end of a run on the terminal: verdict, timeline, why it paused, the audit trail, bytes fetched, final device states. */
public final class TextReport {
    private TextReport() {}

    /** Event kinds worth a line in the condensed timeline; device transitions only when they settle. */
    private static final Set<String> KINDS = Set.of("step", "rollout", "phase", "pause", "power-cut", "boot-hang", "check");
    private static final Set<String> SETTLED = Set.of(DeploymentState.ACTIVATED.wire(), DeploymentState.ROLLED_BACK.wire(), DeploymentState.FAILED.wire(),
            DeploymentState.NEEDS_INVESTIGATION.wire());

    public static void print(RunReport r, PrintWriter out, boolean color) {
        Ansi a = new Ansi(color);
        out.println();
        out.println(a.bold("== " + r.title()));
        out.println("   " + (r.passed() ? a.green("PASSED") : a.red("FAILED")) + " in " + Units.human(Duration.ofMillis((long) (r.seconds() * 1000)))
                + " · scenario " + r.scenario() + " · " + r.devices().size() + " devices · " + r.broker());
        for (String f : r.failures()) out.println("   " + a.red("✗ ") + f);

        out.println();
        out.println(a.bold("-- Timeline") + " (lab time)");
        for (Timeline.Event e : r.timeline()) {
            if (e.t() < 0) continue;
            boolean settled = e.kind().equals("device") && SETTLED.stream().anyMatch(st -> e.text().contains("-> " + st));
            if (!KINDS.contains(e.kind()) && !settled) continue;
            if (e.text().endsWith(": pending") || e.text().endsWith(": draft")) continue;
            String text = e.kind().equals("pause") ? a.red(e.text()) : e.text();
            out.printf(Locale.ROOT, "   %7.1f s  %-9s %s%n", e.t() / 1000.0, e.subject().length() > 9 ? e.subject().substring(0, 9) : e.subject(), text);
        }

        out.println();
        out.println(a.bold("-- Why the rollout paused"));
        if (r.pauses().isEmpty()) out.println("   no pause: every rule stayed clear");
        for (JsonNode pe : r.pauses()) {
            for (String line : PauseText.explain(pe, r.labZero())) out.println("   " + line);
            for (String line : PauseText.aftermath(pe, r.audit(), r.labZero())) out.println("   " + a.bold(line));
        }

        out.println();
        out.println(a.bold("-- Audit trail") + " (" + r.audit().size() + " entries, hash chain " + (r.auditVerified() ? a.green("verified") : a.red("BROKEN")) + ")");
        for (JsonNode e : r.audit()) {
            String at = lab(e.path("at").asText(), r.labZero());
            out.printf(Locale.ROOT, "   %4d %8s  %-38s %-22s %-13s %s%n", e.path("seq").asLong(), at, e.path("actor").asText() + " (" + e.path("role").asText() + ")",
                    e.path("action").asText(), e.path("target").asText(), e.path("reason").asText(""));
        }

        out.println();
        out.println(a.bold("-- Bytes fetched vs bundle sizes"));
        for (RunReport.Bundle b : r.bundles()) {
            out.printf(Locale.ROOT, "   bundle %-8s %10s (%d chunks of %s, header %s) %s%n", b.release(), Units.bytes(b.bytes()), b.chunks(),
                    Units.bytes(b.chunkSize()), Units.bytes(b.header()), b.profile());
        }
        out.printf(Locale.ROOT, "   %-9s %-14s %12s %12s %12s %5s  %s%n", "device", "downloaded", "fetched", "full size", "saved", "cuts", "");
        long fetchedAll = 0;
        long fullAll = 0;
        for (RunReport.Device d : r.devices()) {
            String ok = d.bytesFetched() <= d.bound() ? a.green("within bound") : a.red("OVER BOUND");
            long full = r.fullBytes(d);
            fetchedAll += d.bytesFetched();
            fullAll += full;
            out.printf(Locale.ROOT, "   %-9s %-14s %12s %12s %12s %5d  %s%n", d.id(), d.downloads().isEmpty() ? "-" : String.join(",", d.downloads()),
                    Units.bytes(d.bytesFetched()), Units.bytes(full), saved(d.bytesFetched(), full), d.cuts(), d.downloads().isEmpty() ? "" : ok);
        }
        if (fullAll > 0) {
            out.printf(Locale.ROOT, "   fleet: fetched %s of %s of bundles, saved %s%n", Units.bytes(fetchedAll), Units.bytes(fullAll), saved(fetchedAll, fullAll));
        }

        out.println();
        out.println(a.bold("-- Devices at the end"));
        for (RunReport.Device d : r.devices()) {
            String st = d.state() == null ? "?" : d.state();
            String colored = DeploymentState.ACTIVATED.is(st) ? a.green(st)
                    : DeploymentState.ROLLED_BACK.is(st) || DeploymentState.VERIFIED.is(st) || DeploymentState.IDLE.is(st) ? a.yellow(st) : a.red(st);
            out.printf(Locale.ROOT, "   %-9s %-7s %-4s %-24s runs %-6s %s%s%n", d.id(), d.variant(), d.corridor(), String.join(",", d.cohorts()),
                    d.running(), colored, d.error() == null ? "" : "  (" + d.error() + ")");
        }
    }

    static String lab(String instant, Instant zero) {
        try {
            return String.format(Locale.ROOT, "%.1f s", Duration.between(zero, Instant.parse(instant)).toMillis() / 1000.0);
        } catch (java.time.format.DateTimeParseException e) {
            return instant;
        }
    }

    /** Colour only on a terminal that wants it. */
    static final class Ansi {
        final boolean on;

        Ansi(boolean on) {
            this.on = on;
        }

        String wrap(String code, String s) {
            return on ? "\033[" + code + "m" + s + "\033[0m" : s;
        }

        String bold(String s) {
            return wrap("1", s);
        }

        String red(String s) {
            return wrap("31", s);
        }

        String green(String s) {
            return wrap("32", s);
        }

        String yellow(String s) {
            return wrap("33", s);
        }

        String dim(String s) {
            return wrap("2", s);
        }

        String cyan(String s) {
            return wrap("36", s);
        }
    }

    /** Bytes saved against the full bundles, with the share: "1.2 MiB (87%)"; "-" when nothing was saved. */
    static String saved(long fetched, long full) {
        if (full <= 0 || fetched >= full) return "-";
        return Units.bytes(full - fetched) + String.format(Locale.ROOT, " (%.0f%%)", 100.0 * (full - fetched) / full);
    }
}
