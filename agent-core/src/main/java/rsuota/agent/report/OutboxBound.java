package rsuota.agent.report;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The bound on unacknowledged events ({@link OutboxConfig#maxEvents}, {@link OutboxConfig#maxBytes}):
 * which unsent telemetry gives way to a new event, and when a new telemetry event is itself
 * discarded. Transitions, errors, alerts and command acks never give way; see {@link Outbox}.
 * It only decides; {@link OutboxQueue} holds the events and writes the drops.
 */
final class OutboxBound {

    /** Longest droppedSeqs value: keeps the carrying event far below the wire size limit. */
    private static final int MAX_DROPPED_TEXT = 1024;

    private final OutboxConfig config;

    OutboxBound(OutboxConfig config) {
        this.config = config;
    }

    /**
     * The telemetry to drop so that one more event of {@code type} fits (empty when it fits
     * already), or null when the new event is telemetry and must itself be discarded. The first
     * {@code inflight} events are handed to the link and never chosen.
     */
    List<PendingEvent> makeRoom(Collection<PendingEvent> pending, long pendingBytes, int inflight, String type, boolean telemetry) {
        List<PendingEvent> victims = new ArrayList<>();
        if (full(pending, pendingBytes, victims)) {
            if (telemetry) selectVictims(pending, pendingBytes, inflight, victims, type, true);
            if (full(pending, pendingBytes, victims)) selectVictims(pending, pendingBytes, inflight, victims, null, false);
            if (telemetry && full(pending, pendingBytes, victims)) return null;
        }
        return victims;
    }

    /** Beyond the bound: only events that are never dropped get there. */
    boolean overBound(int events, long bytes) {
        return events > config.maxEvents() || bytes > config.maxBytes();
    }

    /** Drained below 90% of the bound: a later overflow is alerted again. */
    boolean drained(int events, long bytes) {
        return events < config.maxEvents() * 9L / 10 && bytes < config.maxBytes() * 9 / 10;
    }

    /** Would one more event exceed the bound, counting {@code victims} as already gone? */
    private boolean full(Collection<PendingEvent> pending, long pendingBytes, List<PendingEvent> victims) {
        long bytes = pendingBytes;
        for (PendingEvent v : victims) bytes -= v.bytes();
        return pending.size() - victims.size() >= config.maxEvents() || bytes >= config.maxBytes();
    }

    /**
     * Adds droppable telemetry to {@code victims}, oldest first, skipping what is in flight.
     * With {@code all}, every match of {@code type} (coalescing); otherwise only until not full.
     */
    private void selectVictims(Collection<PendingEvent> pending, long pendingBytes, int inflight, List<PendingEvent> victims, String type, boolean all) {
        int index = 0;
        for (PendingEvent p : pending) {
            if (index++ < inflight) continue;
            if (!all && !full(pending, pendingBytes, victims)) return;
            if (!p.telemetry() || victims.contains(p)) continue;
            if (type != null && !type.equals(p.event().type())) continue;
            victims.add(p);
        }
    }

    /** The {@link Outbox#DROPPED_SEQS} value naming {@code victims}: ranges like {@code 12-15,18}, cut short with "...". */
    static String ranges(List<PendingEvent> victims) {
        List<Long> seqs = victims.stream().map(PendingEvent::seq).sorted().toList();
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < seqs.size()) {
            int j = i;
            while (j + 1 < seqs.size() && seqs.get(j + 1) == seqs.get(j) + 1) j++;
            String part = seqs.get(i).equals(seqs.get(j)) ? seqs.get(i).toString() : seqs.get(i) + "-" + seqs.get(j);
            if (sb.length() + part.length() + 4 > MAX_DROPPED_TEXT) {
                sb.append(sb.length() == 0 ? "" : ",").append("...");
                break;
            }
            if (sb.length() > 0) sb.append(',');
            sb.append(part);
            i = j + 1;
        }
        return sb.toString();
    }
}
