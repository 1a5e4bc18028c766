package rsuota.agent.download;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.List;

/**
 * Which chunks are verified and durably written, so a restart resumes at the first missing one.
 *
 * <p>Format: line 1 is the binding {@code manifestDigest slot bundleSize etag}; every further line
 * is {@code image chunk}, appended and fsync'd after the chunk's bytes were fsync'd to the slot. A
 * torn last line (power cut mid-append) is ignored: that chunk is simply fetched again. A journal
 * whose binding differs from the current target belongs to another bundle and is discarded.
 *
 * <p>Package-private: only {@link SlotFiller} writes it, only after the chunk's bytes are fsync'd.
 */
final class DownloadJournal implements AutoCloseable {
    public static final String FILE = "download.journal";

    private final Path file;
    private final BitSet[] done;
    private final int[] counts;
    private FileChannel out;

    private DownloadJournal(Path file, int[] chunkCounts) {
        this.file = file;
        this.counts = chunkCounts.clone();
        this.done = new BitSet[chunkCounts.length];
        for (int i = 0; i < chunkCounts.length; i++) done[i] = new BitSet(chunkCounts[i]);
    }

    /** Opens the journal for {@code binding}, keeping earlier progress only if it was for the same binding. */
    public static DownloadJournal open(Path dir, String binding, int[] chunkCounts) throws IOException {
        DownloadJournal j = new DownloadJournal(dir.resolve(FILE), chunkCounts);
        boolean reuse = false;
        try {
            List<String> lines = Files.readAllLines(j.file, StandardCharsets.UTF_8);
            if (!lines.isEmpty() && lines.get(0).equals(binding)) {
                reuse = true;
                for (int i = 1; i < lines.size(); i++) j.mark(lines.get(i));
            }
        } catch (NoSuchFileException e) {
            // first download
        } catch (java.nio.charset.MalformedInputException e) {
            // a torn write left bytes that are not UTF-8: start over, the slot is rewritten chunk by chunk
        }
        if (!reuse) {
            rsuota.hal.storage.DurableFiles.writeAtomically(j.file, (binding + "\n").getBytes(StandardCharsets.UTF_8));
        } else {
            rewriteClean(j);
        }
        j.out = FileChannel.open(j.file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        return j;
    }

    /** Rewrites a reused journal without any torn tail so later appends start on a clean line. */
    private static void rewriteClean(DownloadJournal j) throws IOException {
        StringBuilder sb = new StringBuilder(Files.readAllLines(j.file, StandardCharsets.UTF_8).get(0)).append('\n');
        for (int i = 0; i < j.done.length; i++) {
            for (int c = j.done[i].nextSetBit(0); c >= 0; c = j.done[i].nextSetBit(c + 1)) sb.append(i).append(' ').append(c).append('\n');
        }
        rsuota.hal.storage.DurableFiles.writeAtomically(j.file, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    private void mark(String line) {
        String[] p = line.trim().split(" ");
        if (p.length != 2) return; // torn tail
        try {
            int i = Integer.parseInt(p[0]);
            int c = Integer.parseInt(p[1]);
            if (i >= 0 && i < done.length && c >= 0 && c < counts[i]) done[i].set(c);
        } catch (NumberFormatException e) {
            // torn tail: fetch that chunk again
        }
    }

    public boolean isDone(int image, int chunk) {
        return done[image].get(chunk);
    }

    public int verifiedChunks() {
        int n = 0;
        for (BitSet b : done) n += b.cardinality();
        return n;
    }

    /** Records a chunk whose bytes are already durable on the slot. */
    public void record(int image, int chunk) throws IOException {
        record(List.of(new int[] {image, chunk}));
    }

    /** Records chunks ({image, chunk} pairs) whose bytes are already durable on the slot: one append, one fsync. */
    public void record(List<int[]> chunks) throws IOException {
        if (chunks.isEmpty()) return;
        StringBuilder sb = new StringBuilder();
        for (int[] c : chunks) sb.append(c[0]).append(' ').append(c[1]).append('\n');
        ByteBuffer b = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining()) out.write(b);
        out.force(false);
        for (int[] c : chunks) done[c[0]].set(c[1]);
    }

    public static void delete(Path dir) throws IOException {
        Files.deleteIfExists(dir.resolve(FILE));
    }

    @Override
    public void close() throws IOException {
        if (out != null) out.close();
    }
}
