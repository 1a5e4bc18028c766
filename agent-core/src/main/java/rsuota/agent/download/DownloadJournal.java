package rsuota.agent.download;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Which chunks are written, so a restart resumes at the first missing one.
 *
 * <p>Format: line 1 is the binding {@code manifestDigest slot bundleSize etag}; then one line
 * {@code image chunk} per chunk, appended (not fsync'd) right after the chunk's bytes were written
 * to the slot ({@code image chunk r} for a chunk copied from a slot instead of fetched, so that the
 * bytes an install reused are counted over all its runs, each chunk once), a line {@code f N}
 * after each fetch ({@code N}: payload bytes fetched by every run of this download so far, failed
 * attempts included), and a line {@code sync} after each group of chunks was fsync'd to the slot (the
 * journal is fsync'd after it). Chunks named before the last {@code sync} are durable. Chunks named
 * after it were written but maybe not kept (a power cut); {@link #pending} lists them and the caller
 * reads each back from the slot and checks its signed hash before trusting it. So a kill -9, which
 * keeps the page cache, costs at most the chunk in flight, and a power cut never makes the journal
 * lie. A torn last line is ignored; a journal whose binding differs belongs to another bundle and
 * is discarded.
 *
 * <p>Package-private: only {@link SlotFiller} writes it.
 */
final class DownloadJournal implements AutoCloseable {
    public static final String FILE = "download.journal";
    static final String SYNC = "sync";
    static final String FETCHED = "f ";

    private final Path file;
    private final BitSet[] done;
    /** Of {@link #done}: the chunks copied from a slot rather than fetched. */
    private final BitSet[] reused;
    private final int[] counts;
    private final List<int[]> pending = new ArrayList<>();
    private long fetchedEarlier;
    private FileChannel out;

    private DownloadJournal(Path file, int[] chunkCounts) {
        this.file = file;
        this.counts = chunkCounts.clone();
        this.done = new BitSet[chunkCounts.length];
        this.reused = new BitSet[chunkCounts.length];
        for (int i = 0; i < chunkCounts.length; i++) {
            done[i] = new BitSet(chunkCounts[i]);
            reused[i] = new BitSet(chunkCounts[i]);
        }
    }

    /** Opens the journal for {@code binding}, keeping earlier progress only if it was for the same binding. */
    public static DownloadJournal open(Path dir, String binding, int[] chunkCounts) throws IOException {
        DownloadJournal j = new DownloadJournal(dir.resolve(FILE), chunkCounts);
        boolean reuse = false;
        try {
            List<String> lines = Files.readAllLines(j.file, StandardCharsets.UTF_8);
            if (!lines.isEmpty() && lines.get(0).equals(binding)) {
                reuse = true;
                List<int[]> since = new ArrayList<>();
                for (int i = 1; i < lines.size(); i++) {
                    if (lines.get(i).startsWith(FETCHED)) {
                        try {
                            j.fetchedEarlier = Math.max(j.fetchedEarlier, Long.parseLong(lines.get(i).substring(FETCHED.length())));
                        } catch (NumberFormatException torn) {
                            // a torn tail: the count of the line before stands
                        }
                    } else if (lines.get(i).equals(SYNC)) {
                        for (int[] c : since) j.mark(c[0], c[1], c[2] == 1);
                        since.clear();
                    } else {
                        int[] c = j.parse(lines.get(i));
                        if (c != null) since.add(c);
                    }
                }
                for (int[] c : since) if (!j.done[c[0]].get(c[1])) j.pending.add(c);
            }
        } catch (NoSuchFileException e) {
            // first download
        } catch (java.nio.charset.MalformedInputException e) {
            // a torn write left bytes that are not UTF-8: start over, the slot is rewritten chunk by chunk
        }
        StringBuilder sb = new StringBuilder(binding).append('\n');
        if (reuse) {
            // Rewritten without any torn tail so later appends start on a clean line; pending chunks
            // are left out until the caller has checked them.
            for (int i = 0; i < j.done.length; i++) {
                for (int c = j.done[i].nextSetBit(0); c >= 0; c = j.done[i].nextSetBit(c + 1)) sb.append(line(i, c, j.reused[i].get(c)));
            }
            sb.append(SYNC).append('\n');
            sb.append(FETCHED).append(j.fetchedEarlier).append('\n');
        }
        rsuota.hal.storage.DurableFiles.writeAtomically(j.file, sb.toString().getBytes(StandardCharsets.UTF_8));
        j.out = FileChannel.open(j.file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        return j;
    }

    private static String line(int image, int chunk, boolean copied) {
        return image + " " + chunk + (copied ? " r" : "") + "\n";
    }

    private void mark(int image, int chunk, boolean copied) {
        done[image].set(chunk);
        reused[image].set(chunk, copied);
    }

    /** {@code {image, chunk, 1 if reused else 0}}, or null for a torn or foreign line. */
    private int[] parse(String line) {
        String[] p = line.trim().split(" ");
        if (p.length != 2 && !(p.length == 3 && p[2].equals("r"))) return null; // torn tail
        try {
            int i = Integer.parseInt(p[0]);
            int c = Integer.parseInt(p[1]);
            return i >= 0 && i < done.length && c >= 0 && c < counts[i] ? new int[] {i, c, p.length == 3 ? 1 : 0} : null;
        } catch (NumberFormatException e) {
            return null; // torn tail: fetch that chunk again
        }
    }

    /**
     * Chunks written after the last sync of an earlier run, as {@code {image, chunk, 1 if reused}}:
     * the caller checks each on the slot, then {@link #append}s it (with the same reused flag).
     */
    public List<int[]> pending() {
        return List.copyOf(pending);
    }

    public boolean isDone(int image, int chunk) {
        return done[image].get(chunk);
    }

    public int verifiedChunks() {
        int n = 0;
        for (BitSet b : done) n += b.cardinality();
        return n;
    }

    /** Payload bytes the earlier runs of this download fetched (as they last recorded with {@link #fetched}). */
    public long fetchedEarlier() {
        return fetchedEarlier;
    }

    /** Records that every run of this download so far fetched {@code total} payload bytes: one write, no fsync. */
    public void fetched(long total) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((FETCHED + total + "\n").getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining()) out.write(b);
    }

    /** Chunks done that were copied from a slot, earlier runs included. */
    public int reusedChunks() {
        int n = 0;
        for (BitSet b : reused) n += b.cardinality();
        return n;
    }

    /** The bytes of the chunks done that were copied from a slot, earlier runs included; {@code length} gives a chunk's length. */
    public long reusedBytes(java.util.function.IntBinaryOperator length) {
        long n = 0;
        for (int i = 0; i < reused.length; i++) {
            for (int c = reused[i].nextSetBit(0); c >= 0; c = reused[i].nextSetBit(c + 1)) n += length.applyAsInt(i, c);
        }
        return n;
    }

    /**
     * Names a chunk whose bytes were just written to the slot (not yet fsync'd): one write, no fsync.
     * {@code copied}: the bytes came from a slot (active or target), not from the source.
     */
    public void append(int image, int chunk, boolean copied) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(line(image, chunk, copied).getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining()) out.write(b);
        mark(image, chunk, copied);
    }

    /** After the slot was fsync'd: every chunk appended so far is durable. */
    public void sync() throws IOException {
        ByteBuffer b = ByteBuffer.wrap((SYNC + "\n").getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining()) out.write(b);
        out.force(false);
    }

    public static void delete(Path dir) throws IOException {
        Files.deleteIfExists(dir.resolve(FILE));
    }

    @Override
    public void close() throws IOException {
        if (out != null) out.close();
    }
}
