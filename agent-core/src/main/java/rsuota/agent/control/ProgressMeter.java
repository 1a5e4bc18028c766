package rsuota.agent.control;

import rsuota.agent.update.Progress;

/**
 * Turns successive download progress samples into what a technician watches: bytes, rate, ETA,
 * chunks verified and where the install resumed from. The rate is smoothed (exponential, about the
 * last few seconds) so the ETA does not jump with every chunk; it is computed from bytes fetched in
 * this run, so a resumed install's early chunks do not count as speed.
 */
public final class ProgressMeter {
    /** Weight of the newest rate sample: ~5 samples at the 250 ms the callers poll at. */
    private static final double ALPHA = 0.2;

    /**
     * One report (also the JSON of {@code install --json} and of the socket's progress messages).
     *
     * @param resumedFromChunk chunks already verified on the slot when this install (re)started; 0 for a fresh one
     * @param etaSeconds       null while no rate is known
     */
    public record Report(String release, long bytesFetched, long payloadBytes, int chunksVerified, int chunksTotal,
                         long bytesPerSecond, Long etaSeconds, int resumedFromChunk) {
        public int percent() {
            return chunksTotal == 0 ? 0 : (int) (100L * chunksVerified / chunksTotal);
        }
    }

    private Integer resumedFrom;
    private long lastBytes = -1;
    private long lastNanos;
    private double rate;

    /** Folds in {@code p} sampled at {@code nanos} (System.nanoTime); null when there is nothing to show yet. */
    public Report sample(Progress p, long nanos) {
        if (p == null || p.chunksTotal() == 0) return null;
        if (resumedFrom == null) resumedFrom = p.chunksVerified() == p.chunksTotal() ? 0 : p.chunksVerified();
        if (lastBytes >= 0 && nanos > lastNanos && p.bytesFetched() >= lastBytes) {
            double r = (p.bytesFetched() - lastBytes) * 1e9 / (nanos - lastNanos);
            rate = rate == 0 ? r : ALPHA * r + (1 - ALPHA) * rate;
        }
        lastBytes = p.bytesFetched();
        lastNanos = nanos;
        long left = p.chunksTotal() == 0 ? 0 : p.payloadBytes() * (p.chunksTotal() - p.chunksVerified()) / p.chunksTotal();
        Long eta = rate >= 1 ? Long.valueOf((long) Math.ceil(left / rate)) : left == 0 ? Long.valueOf(0) : null;
        return new Report(p.release(), p.bytesFetched(), p.payloadBytes(), p.chunksVerified(), p.chunksTotal(), (long) rate, eta, resumedFrom);
    }
}
