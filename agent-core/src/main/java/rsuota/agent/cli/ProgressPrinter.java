package rsuota.agent.cli;

import java.io.PrintWriter;
import rsuota.agent.update.Progress;
import rsuota.agent.update.UpdateEngine;

/** Prints download progress: a bar on a terminal, plain lines (every 10 %) otherwise. */
final class ProgressPrinter {
    private final UpdateEngine engine;
    private final PrintWriter out;
    private final boolean tty;
    private Thread thread;
    private volatile boolean running = true;
    private int lastTenth = -1;

    ProgressPrinter(UpdateEngine engine, PrintWriter out, boolean tty) {
        this.engine = engine;
        this.out = out;
        this.tty = tty;
    }

    void start() {
        thread = new Thread(() -> {
            while (running) {
                print(false);
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

    void stop() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join();
        print(true);
        if (tty) out.println();
    }

    private void print(boolean last) {
        Progress p = engine.progress();
        if (p == null || p.chunksTotal() == 0) return;
        int pct = (int) (100L * p.chunksVerified() / p.chunksTotal());
        if (tty) {
            int w = 30;
            int filled = w * pct / 100;
            out.printf("\r[%s%s] %3d%%  %d/%d chunks  %.1f MiB fetched", "#".repeat(filled), " ".repeat(w - filled), pct,
                    p.chunksVerified(), p.chunksTotal(), p.bytesFetched() / 1048576.0);
            out.flush();
        } else if (pct / 10 != lastTenth || last && pct == 100 && lastTenth != 10) {
            lastTenth = pct / 10;
            out.printf("progress %d%% (%d/%d chunks, %d bytes fetched)%n", pct, p.chunksVerified(), p.chunksTotal(), p.bytesFetched());
        }
    }
}
