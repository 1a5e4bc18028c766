package rsuota.agent.cli;

import java.io.PrintWriter;
import java.util.Locale;
import rsuota.agent.control.ProgressMeter;
import rsuota.agent.update.UpdateEngine;

/**
 * Prints download progress: a bar on a terminal, plain lines (every 10 %) otherwise, one JSON line
 * per report with --json. Fed by the daemon's progress messages, or (no daemon) by {@link #follow},
 * which samples the local engine.
 */
final class ProgressPrinter {
    private final PrintWriter out;
    private final boolean tty;
    private final boolean json;
    private ProgressMeter.Report last;
    private int lastTenth = -1;
    private Thread thread;
    private volatile boolean running = true;

    ProgressPrinter(PrintWriter out, boolean tty, boolean json) {
        this.out = out;
        this.tty = tty && !json;
        this.json = json;
    }

    /** Samples {@code engine} every 250 ms on a thread of its own until {@link #stop}. */
    void follow(UpdateEngine engine) {
        ProgressMeter meter = new ProgressMeter();
        thread = new Thread(() -> {
            while (running) {
                ProgressMeter.Report r = meter.sample(engine.progress(), System.nanoTime());
                if (r != null && !r.equals(last)) show(r);
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "rsu-progress");
        thread.setDaemon(true);
        thread.start();
    }

    synchronized void show(ProgressMeter.Report p) {
        last = p;
        int pct = p.percent();
        if (json) {
            out.println(DeviceCommand.line(java.util.Map.of("type", "progress", "progress", p)));
        } else if (tty) {
            int w = 30;
            int filled = w * pct / 100;
            out.printf(Locale.US, "\r[%s%s] %3d%%  %d/%d chunks  %.1f/%.1f MiB  %s  ETA %s%s", "#".repeat(filled), " ".repeat(w - filled), pct,
                    p.chunksVerified(), p.chunksTotal(), p.bytesFetched() / 1048576.0, p.payloadBytes() / 1048576.0, rate(p), eta(p),
                    p.resumedFromChunk() > 0 ? "  (resumed at chunk " + p.resumedFromChunk() + ")" : "");
            out.flush();
        } else if (pct / 10 != lastTenth) {
            lastTenth = pct / 10;
            out.printf(Locale.US, "progress %d%% (%d/%d chunks, %d bytes fetched, %s, ETA %s%s)%n", pct, p.chunksVerified(), p.chunksTotal(),
                    p.bytesFetched(), rate(p), eta(p), p.resumedFromChunk() > 0 ? ", resumed at chunk " + p.resumedFromChunk() : "");
        }
    }

    /** A line the daemon sent instead of numbers ("resuming the interrupted install of ..."). */
    synchronized void note(String text) {
        if (json) out.println(DeviceCommand.line(java.util.Map.of("type", "note", "note", text)));
        else out.println(text);
    }

    void stop() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.interrupt();
            thread.join();
        }
        finish();
    }

    /** Ends the bar's line on a terminal. */
    synchronized void finish() {
        if (tty && last != null) out.println();
    }

    private static String rate(ProgressMeter.Report p) {
        return p.bytesPerSecond() <= 0 ? "- MiB/s" : String.format(Locale.US, "%.1f MiB/s", p.bytesPerSecond() / 1048576.0);
    }

    private static String eta(ProgressMeter.Report p) {
        if (p.etaSeconds() == null) return "-";
        long s = p.etaSeconds();
        return s >= 3600 ? String.format(Locale.US, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format(Locale.US, "%d:%02d", s / 60, s % 60);
    }
}
