package rsuota.lab.report;

import rsuota.wire.DeploymentState;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import rsuota.lab.device.SimulatedDevice;
import rsuota.lab.run.LabView;
import rsuota.lab.run.Timeline;
import rsuota.lab.scenario.Units;
import rsuota.wire.MqttState;

/**
 * The run on a terminal. On an interactive terminal: one screen redrawn in place twice a second
 * (phases, the current phase's KPIs against the rule thresholds, every device's state, KPIs and
 * bytes, the latest events). Otherwise (CI logs, a pipe): plain lines, one per event, as they happen.
 */
public final class TerminalView implements LabView {
    /** Redraws per second on a terminal: smooth enough to follow, cheap enough for a 2-core box running the fleet. */
    private static final long REDRAW_MILLIS = 500;

    private final PrintWriter out;
    private final boolean live;
    private final TextReport.Ansi a;
    /** The terminal's width, from scripts/lab ({@code tput cols}); 160 when unknown. */
    private final int columns = Integer.getInteger("rsuota.lab.columns", 160);
    private long lastDraw;
    private int printed;
    private Snapshot last;
    private boolean drawing;
    private boolean started;

    /**
     * @param live  redraw one screen (an interactive terminal) instead of printing lines
     * @param color ANSI colours
     */
    public TerminalView(PrintWriter out, boolean live, boolean color) {
        this.out = out;
        this.live = live;
        this.a = new TextReport.Ansi(color);
    }

    @Override
    public void note(String line) {
        if (drawing) return;
        out.println(a.dim("lab: ") + line);
        out.flush();
    }

    @Override
    public void update(Snapshot s) {
        last = s;
        if (!live) {
            plain(s);
            return;
        }
        long now = System.currentTimeMillis();
        if (now - lastDraw < REDRAW_MILLIS) return;
        lastDraw = now;
        draw(s);
    }

    @Override
    public void finish() {
        if (live && last != null) draw(last);
        out.println();
        out.flush();
    }

    // ---------------------------------------------------------------- plain lines

    private void plain(Snapshot s) {
        for (Timeline.Event e : s.timeline().from(printed)) {
            printed = e.seq() + 1;
            out.printf(Locale.ROOT, "%7.1f s  %-9s %-10s %s%n", e.t() / 1000.0, e.kind(), e.subject(), e.text());
        }
        out.flush();
    }

    // ---------------------------------------------------------------- one screen

    private void draw(Snapshot s) {
        drawing = true;
        List<String> lines = new ArrayList<>();
        lines.add(a.bold("RSU OTA lab · " + s.title()));
        lines.add(a.dim(String.format(Locale.ROOT, "scenario %s · lab time %s of at most %s · %d roadside units", s.scenario(), clock(s.elapsed()),
                Units.human(s.timeLimit()), s.devices().size())));
        lines.add("");
        for (Map.Entry<String, JsonNode> r : s.rollouts().entrySet()) rollout(lines, r.getKey(), r.getValue());
        lines.add("");
        lines.add(a.bold(String.format(Locale.ROOT, "%-9s %-7s %-4s %-15s %-16s %-6s %8s %8s %8s %8s %10s", "DEVICE", "VARIANT", "CORR", "COHORT", "STATE",
                "RUNS", "AVAIL", "LAG p50", "LAG p95", "DROPPED", "FETCHED")));
        for (SimulatedDevice.Status d : s.devices().values()) {
            List<String> cohorts = s.cohortOf().getOrDefault(d.id(), List.of());
            String cohort = cohorts.isEmpty() ? "-" : cohorts.get(cohorts.size() - 1);
            String state = d.powered() ? (d.state() == null ? "booting" : d.state()) : "off";
            if (d.powered() && !d.agentUp()) state = "rebooting";
            long[] b = s.bytes().get(d.id());
            MqttState.Kpis k = d.kpis();
            lines.add(String.format(Locale.ROOT, "%-9s %-7s %-4s %-15s %s %-6s %s %s %s %s %10s", d.id(), trim(d.variant(), 7), trim(d.corridor(), 4),
                    trim(cohort, 15), pad(colorState(state), state, 16), d.running() == null ? "-" : d.running(),
                    kpi(k == null ? null : k.availability(), v -> v < 0.995, v -> String.format(Locale.ROOT, "%.2f%%", v * 100)),
                    kpi(k == null ? null : k.lagMedianMs(), v -> v > 2000, TerminalView::ms),
                    kpi(k == null ? null : k.lagP95Ms(), v -> v > 10000, TerminalView::ms),
                    kpi(k == null ? null : k.droppedRatio(), v -> v > 0.001, v -> String.format(Locale.ROOT, "%.3f%%", v * 100)),
                    b == null ? "-" : Units.bytes(b[0])));
        }
        lines.add("");
        lines.add(a.bold("Latest"));
        for (Timeline.Event e : s.recent()) {
            if (e.t() < 0) continue;
            String text = e.text().length() > 96 ? e.text().substring(0, 95) + "…" : e.text();
            lines.add(String.format(Locale.ROOT, "%7.1f s  %-9s %s", e.t() / 1000.0, trim(e.subject(), 9), e.kind().equals("pause") ? a.red(text) : text));
        }
        if (!s.unmet().isEmpty()) {
            lines.add("");
            lines.add(a.dim("waiting for: " + s.unmet().get(0) + (s.unmet().size() > 1 ? " (+" + (s.unmet().size() - 1) + " more)" : "")));
        }
        StringBuilder sb = new StringBuilder();
        sb.append("\033[H");
        for (String l : lines) sb.append(fit(l, columns)).append("\033[K\n");
        sb.append("\033[J");
        if (!started) {
            out.print("\033[2J");
            started = true;
        }
        out.print(sb);
        out.flush();
    }

    private void rollout(List<String> lines, String release, JsonNode st) {
        String state = st.path("state").asText();
        StringBuilder phases = new StringBuilder();
        for (JsonNode p : st.path("phases")) {
            if (phases.length() > 0) phases.append(a.dim(" → "));
            String ps = p.path("state").asText();
            JsonNode b = p.path("buckets");
            int total = 0;
            for (JsonNode n : b) total += n.asInt();
            String count = total == 0 ? "" : " " + b.path("succeeded").asInt() + "/" + total;
            String mark = switch (ps) {
                case "passed" -> a.green("✔ " + p.path("name").asText() + count);
                case "active" -> a.yellow("● " + p.path("name").asText() + count);
                case "awaiting_approval" -> a.yellow("◐ " + p.path("name").asText() + count + " awaiting approval");
                case "rolled_back" -> a.red("↶ " + p.path("name").asText());
                default -> a.dim("○ " + p.path("name").asText());
            };
            phases.append(mark);
        }
        String s = switch (state) {
            case "completed" -> a.green(state.toUpperCase(Locale.ROOT));
            case "paused", "rolling_back", "rolled_back" -> a.red(state.toUpperCase(Locale.ROOT));
            case "running" -> a.yellow(state.toUpperCase(Locale.ROOT));
            default -> a.dim(state.toUpperCase(Locale.ROOT));
        };
        lines.add(String.format(Locale.ROOT, "%s %-6s %s  %s", a.bold("rollout"), release, s, phases));
        int idx = st.path("phaseIndex").asInt(-1);
        JsonNode cur = idx >= 0 ? st.path("phases").path(idx) : null;
        if (cur != null && !cur.isMissingNode() && (state.equals("running") || state.equals("paused"))) {
            StringBuilder k = new StringBuilder();
            for (JsonNode kp : cur.path("kpis")) {
                String rule = kp.path("rule").asText();
                if (rule.equals("open-sev1") || rule.equals("rollback-rate-above")) continue;
                String name = switch (rule) {
                    case "availability-below" -> "availability";
                    case "lag-median-above" -> "lag p50";
                    case "lag-p95-above" -> "lag p95";
                    case "dropped-ratio-above" -> "dropped";
                    default -> rule;
                };
                String verdict = kp.path("verdict").asText();
                String obs = kp.hasNonNull("observed") ? value(kp.path("unit").asText(), rule, kp.path("observed").asDouble()) : "n/a";
                String thr = kp.path("comparison").asText().equals("<") ? "≥" + value(kp.path("unit").asText(), rule, kp.path("threshold").asDouble())
                        : "≤" + value(kp.path("unit").asText(), rule, kp.path("threshold").asDouble());
                String cell = name + " " + obs + " " + a.dim(thr);
                k.append(k.length() > 0 ? "  " : "").append(verdict.equals("breach") ? a.red(cell + " ✗") : verdict.equals("clear") ? cell + a.green(" ✔") : cell + a.dim(" ?"));
            }
            if (k.length() > 0) lines.add("         " + a.dim(cur.path("cohort").asText() + ":") + " " + k);
        }
        for (JsonNode pe : st.path("pauses")) {
            if (!pe.hasNonNull("resumedAt")) lines.add("         " + a.red(rsuota.lab.run.PauseText.headline(pe)));
        }
    }

    private static String value(String unit, String rule, double v) {
        if (unit.equals("ms")) return ms(v);
        if (rule.startsWith("availability")) return String.format(Locale.ROOT, "%.2f%%", v * 100);
        if (unit.equals("ratio")) return String.format(Locale.ROOT, "%.3f%%", v * 100);
        return String.format(Locale.ROOT, "%.0f", v);
    }

    private static String ms(double v) {
        return v >= 1000 ? String.format(Locale.ROOT, "%.2fs", v / 1000) : Math.round(v) + "ms";
    }

    private String kpi(Double v, java.util.function.DoublePredicate bad, java.util.function.DoubleFunction<String> f) {
        if (v == null) return String.format("%8s", "-");
        String text = String.format(Locale.ROOT, "%8s", f.apply(v));
        return bad.test(v) ? a.red(text) : text;
    }

    private String colorState(String st) {
        if (st.equals("off")) return a.red(st);
        return switch (DeploymentState.of(st).orElse(DeploymentState.PENDING)) {
            case ACTIVATED -> a.green(st);
            case FAILED, NEEDS_INVESTIGATION -> a.red(st);
            case ROLLING_BACK, ROLLED_BACK -> a.cyan(st);
            case IDLE -> a.dim(st);
            default -> a.yellow(st);
        };
    }

    /**
     * Cuts a line to {@code width} visible characters, keeping its colour codes: a wrapped line
     * would push the screen down and the next redraw would no longer land on the previous one.
     */
    static String fit(String line, int width) {
        StringBuilder out = new StringBuilder(line.length());
        int visible = 0;
        boolean cut = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\033') {
                int end = line.indexOf('m', i);
                if (end < 0) break;
                out.append(line, i, end + 1);
                i = end;
                continue;
            }
            if (visible >= width) {
                cut = true;
                continue;
            }
            out.append(c);
            visible++;
        }
        if (cut) out.append("\033[0m");
        return out.toString();
    }

    /** Pads a coloured string by its visible length. */
    private static String pad(String colored, String plain, int width) {
        return colored + " ".repeat(Math.max(0, width - plain.length()));
    }

    private static String trim(String s, int n) {
        return s.length() > n ? s.substring(0, n) : s;
    }

    private static String clock(Duration d) {
        long s = Math.max(0, d.toSeconds());
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
