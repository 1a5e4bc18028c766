package rsuota.agent.report;

import rsuota.agent.AgentError;
import rsuota.hal.storage.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import rsuota.wire.MqttEvent;
import rsuota.wire.WireCodec;
import rsuota.wire.WireException;

/**
 * The outbox's files and their encoding: the event log {@code events.jsonl} (one JSON line per
 * event, appended and fdatasync'd), the ack pointer {@code events.acked} ({@code acked=} and
 * {@code last=} lines, replaced atomically) and the drop list {@code events.dropped} (one seq a
 * line, appended). It knows how to write and read them, not when: {@link OutboxReplay} decides
 * what a log means after a power cut, {@link OutboxQueue} when to append, acknowledge and compact.
 * Callers hold the outbox lock (or are opening it).
 */
final class OutboxJournal {

    /** Ends every line of the log: a line without it is torn. */
    static final byte NEWLINE = '\n';

    private final Path dir;
    private final Path logPath;
    private final Path ackPath;
    private final Path dropPath;
    private FileChannel log;
    private FileChannel drops;
    /** A failed append could not be undone: the log may end in a partial line. */
    private boolean broken;

    OutboxJournal(Path dir) {
        this.dir = dir;
        this.logPath = dir.resolve(Outbox.LOG_FILE);
        this.ackPath = dir.resolve(Outbox.ACK_FILE);
        this.dropPath = dir.resolve(Outbox.DROP_FILE);
    }

    Path logPath() {
        return logPath;
    }

    boolean isBroken() {
        return broken;
    }

    // ---------------------------------------------------------------- reading

    /** Leftovers of an interrupted atomic write; only our own names, the directory may be shared. */
    void deleteLeftovers() throws IOException {
        Files.deleteIfExists(logPath.resolveSibling(Outbox.LOG_FILE + DurableFiles.TMP_SUFFIX));
        Files.deleteIfExists(ackPath.resolveSibling(Outbox.ACK_FILE + DurableFiles.TMP_SUFFIX));
    }

    /** {acked, last}; {0, 0} when absent. */
    long[] readAck() throws IOException {
        if (!Files.exists(ackPath)) return new long[] {0, 0};
        String text = Files.readString(ackPath, StandardCharsets.US_ASCII);
        Map<String, Long> values = new HashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq <= 0) continue;
            try {
                values.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1).trim()));
            } catch (NumberFormatException e) {
                break;
            }
        }
        Long acked = values.get("acked");
        Long last = values.get("last");
        if (acked == null || last == null || acked < 0 || last < acked) {
            // Written by atomic rename, so this is media damage or a hand edit; guessing could
            // reuse seqs the controller already has, which it would then drop as duplicates.
            throw new OutboxException(AgentError.STATE_CORRUPT,
                    ackPath + " is unreadable ('" + text.strip().replace('\n', ' ') + "'); inspect it, or move the outbox directory aside to start a new seq history");
        }
        return new long[] {acked, last};
    }

    Set<Long> readDrops() throws IOException {
        Set<Long> out = new HashSet<>();
        if (!Files.exists(dropPath)) return out;
        for (String line : Files.readAllLines(dropPath, StandardCharsets.US_ASCII)) {
            try {
                out.add(Long.parseLong(line.trim()));
            } catch (NumberFormatException tornOrEmpty) {
                // A torn last line of the drop list: that drop did not complete, the event stays.
            }
        }
        return out;
    }

    /** Opens (or creates, durably) the event log for appending and returns its whole content. */
    byte[] openLog() throws IOException {
        boolean created = !Files.exists(logPath);
        log = FileChannel.open(logPath, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        if (created) DurableFiles.fsyncDirectory(dir);
        return Files.readAllBytes(logPath);
    }

    /** Closes the log after {@link #openLog()} when the outbox cannot be opened after all. */
    void closeLog() throws IOException {
        log.close();
    }

    /** The event of the line {@code data[start, end)}, or null when it is empty, too long or not an event. */
    static MqttEvent parse(byte[] data, int start, int end) {
        if (end - start <= 0 || end - start > WireCodec.MAX_BYTES) return null;
        try {
            return WireCodec.decode(Arrays.copyOfRange(data, start, end), MqttEvent.class);
        } catch (WireException e) {
            return null;
        }
    }

    /** Cuts off (durably) everything in the log after byte {@code end}. */
    void truncateLog(long end) throws IOException {
        log.truncate(end);
        log.force(true);
    }

    /** Where the next event is appended. */
    void appendAt(long end) throws IOException {
        log.position(end);
    }

    void openDrops() throws IOException {
        drops = FileChannel.open(dropPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    // ---------------------------------------------------------------- writing

    /** Appends one event line and fdatasyncs; on failure the partial line is removed again. */
    void append(byte[] json) throws IOException {
        long before = log.position();
        try {
            DurableFiles.writeFully(log, ByteBuffer.wrap(json), ByteBuffer.wrap(new byte[] {NEWLINE}));
            // fdatasync: the data and the new file size; the file itself is already durable.
            log.force(false);
        } catch (IOException e) {
            try {
                // Remove the partial line, or the next append would glue a good event onto it.
                log.truncate(before);
                log.position(before);
                log.force(false);
            } catch (IOException undo) {
                broken = true;
                e.addSuppressed(undo);
            }
            throw new OutboxException(AgentError.WRITE_FAILED, "appending to " + logPath + ": " + e.getMessage(), e);
        }
    }

    /** Replaces the ack pointer; {@code durable} also syncs the directory, so the rename survives a power cut. */
    void writeAck(long acked, long last, boolean durable) throws IOException {
        DurableFiles.writeAtomically(ackPath, ("acked=" + acked + "\nlast=" + last + "\n").getBytes(StandardCharsets.US_ASCII), durable);
    }

    /** Appends {@code seqs} to the drop list and fdatasyncs. */
    void appendDrops(List<Long> seqs) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (long seq : seqs) sb.append(seq).append('\n');
        DurableFiles.writeFully(drops, ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.US_ASCII)));
        drops.force(false);
    }

    /** Rewrites the log with {@code lines} only (compaction) and empties the drop list. */
    void compact(long acked, long last, Iterable<byte[]> lines) throws IOException {
        // The ack pointer must be durable before the acknowledged lines disappear, or a power cut
        // could leave neither, and the seq would restart below what the controller has seen.
        writeAck(acked, last, true);
        Path tmp = logPath.resolveSibling(Outbox.LOG_FILE + DurableFiles.TMP_SUFFIX);
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (byte[] json : lines) DurableFiles.writeFully(out, ByteBuffer.wrap(json), ByteBuffer.wrap(new byte[] {NEWLINE}));
            out.force(true);
        }
        Files.move(tmp, logPath, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        DurableFiles.fsyncDirectory(dir);
        FileChannel old = log;
        log = FileChannel.open(logPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
        log.position(log.size());
        old.close();
        // The dropped events are no longer in the log, so their list can go.
        drops.truncate(0);
        drops.force(true);
    }

    void close() {
        closeQuietly(log);
        closeQuietly(drops);
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException e) {
            // Nothing is buffered in a FileChannel; a failing close loses nothing.
        }
    }
}
