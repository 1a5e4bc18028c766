package rsuota.agent.report;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.wire.MqttEvent;

/**
 * Recovery when the outbox opens: what of the journal survived a power cut, and what is still to
 * be sent. The log can end in a torn line (an emit that never returned) or in garbage (blocks the
 * file system allocated but never wrote): everything after the last complete, parseable line is
 * cut off and logged. No fsync'd event is lost that way, because an emit returns only after its
 * whole line is on disk. The seq never goes back: it resumes at the maximum of the ack pointer's
 * record and the log.
 */
final class OutboxReplay {

    /** Logs as {@link Outbox}: the logger name is in every line, and operators filter on it. */
    private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);

    /** The outbox state rebuilt from disk: the unacknowledged events in seq order and the seq counters. */
    record Recovered(long ackedSeq, long lastSeq, ArrayDeque<PendingEvent> pending, long pendingBytes) {}

    private OutboxReplay() {}

    /**
     * Reads the journal of {@code deviceId}, repairs a torn tail, compacts away acknowledged and
     * dropped lines, and leaves the journal open for appending. Fails with STATE_CORRUPT or
     * FOREIGN_DEVICE (fatal) or an I/O error.
     */
    static Recovered replay(OutboxJournal journal, OutboxConfig config, String deviceId) throws IOException {
        journal.deleteLeftovers();
        long[] ack = journal.readAck();
        long ackedSeq = ack[0];
        Set<Long> droppedSeqs = journal.readDrops();
        byte[] data = journal.openLog();
        ArrayDeque<PendingEvent> pending = new ArrayDeque<>();
        long pendingBytes = 0;
        long maxSeq = 0;
        long goodEnd = 0;
        long lines = 0;
        int start = 0;
        for (int i = 0; i < data.length; i++) {
            if (data[i] != OutboxJournal.NEWLINE) continue;
            int end = i;
            MqttEvent e = OutboxJournal.parse(data, start, end);
            if (e == null || e.seq() <= maxSeq) {
                // Not at the tail (a later good line may follow): logged now, skipped, and it
                // stays garbage until compaction. If nothing good follows, it is cut below.
                if (e != null) LOG.error("outbox {}: OUTBOX_CORRUPT_LINE: seq {} after {} at byte {}, skipped", deviceId, e.seq(), maxSeq, start);
                else if (hasGoodLineAfter(data, i + 1)) LOG.error("outbox {}: OUTBOX_CORRUPT_LINE at byte {}, skipped", deviceId, start);
            } else {
                if (!deviceId.equals(e.deviceId())) {
                    journal.closeLog();
                    throw new OutboxException(AgentError.FOREIGN_DEVICE,
                            journal.logPath() + " holds events of device " + e.deviceId() + ", not " + deviceId);
                }
                maxSeq = e.seq();
                goodEnd = end + 1;
                if (e.seq() > ackedSeq && !droppedSeqs.contains(e.seq())) {
                    byte[] json = Arrays.copyOfRange(data, start, end);
                    PendingEvent p = new PendingEvent(e, json, config.telemetryTypes().contains(e.type()));
                    pending.add(p);
                    pendingBytes += p.bytes();
                }
            }
            lines++;
            start = i + 1;
        }
        if (goodEnd < data.length) {
            // A torn last line (the emit never returned) or garbage after a power cut: cut it.
            LOG.warn("outbox {}: OUTBOX_TORN_TAIL: discarding {} bytes after the last complete event (seq {})",
                    deviceId, data.length - goodEnd, maxSeq);
            journal.truncateLog(goodEnd);
        }
        journal.appendAt(goodEnd);
        long lastSeq = Math.max(Math.max(ack[0], ack[1]), maxSeq);
        // Lines that are acknowledged or dropped: compaction removes them right away.
        long garbageLines = Math.max(0, lines - pending.size());
        journal.openDrops();
        if (garbageLines > 0) journal.compact(ackedSeq, lastSeq, pending.stream().map(PendingEvent::json).toList());
        LOG.info("outbox {}: opened, seq {}, acked {}, {} pending", deviceId, lastSeq, ackedSeq, pending.size());
        return new Recovered(ackedSeq, lastSeq, pending, pendingBytes);
    }

    private static boolean hasGoodLineAfter(byte[] data, int from) {
        int start = from;
        for (int i = from; i < data.length; i++) {
            if (data[i] != OutboxJournal.NEWLINE) continue;
            if (OutboxJournal.parse(data, start, i) != null) return true;
            start = i + 1;
        }
        return false;
    }
}
