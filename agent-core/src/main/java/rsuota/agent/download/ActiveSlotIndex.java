package rsuota.agent.download;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import rsuota.agent.AgentError;
import rsuota.bundle.Chunking;
import rsuota.bundle.Sha256;
import rsuota.hal.boot.Slot;
import rsuota.hal.storage.DurableFiles;
import rsuota.hal.storage.SlotStorage;

/**
 * Which chunks the running (active) slot holds: identity (SHA-256 of the bytes) -> where. Built
 * in the background when a release is committed ({@link SlotFiller#indexSlot}), else on first need
 * by cutting the slot with the bundle's {@link Chunking} (one read of the slot),
 * persisted as {@value #FILE} in the state directory, and used again while it is bound to the
 * same slot, slot size, chunking and fingerprint (a hash of the slot's first and last 64 KiB:
 * a cheap check that the slot was not rewritten since). Nothing it says is trusted: every chunk
 * copied from the slot is hashed against the signed identity before it is written.
 *
 * <p>A persisted index that names bytes outside the slot, or does not parse, is refused with
 * {@link AgentError#ACTIVE_INDEX_INVALID} (a note of the fill) and rebuilt.
 */
final class ActiveSlotIndex {
    static final String FILE = "active-slot.index";
    /** Bytes hashed at each end of the slot for the fingerprint. */
    static final int FINGERPRINT_BYTES = 64 * 1024;

    /** Where a chunk lies in the active slot. */
    record Entry(long offset, int length) {}

    private final Path file;
    private final Map<String, Entry> byIdentity;
    private final boolean built;

    private ActiveSlotIndex(Path file, Map<String, Entry> byIdentity, boolean built) {
        this.file = file;
        this.byIdentity = byIdentity;
        this.built = built;
    }

    /** Loads the persisted index if it still describes {@code active}, else builds and persists it. */
    static ActiveSlotIndex open(SlotStorage storage, Slot active, Path dir, Chunking chunking, List<FillReport.Note> notes) throws IOException {
        Path file = dir.resolve(FILE);
        long size = storage.size(active);
        String binding;
        try (FileChannel ch = storage.openForRead(active)) {
            binding = "rsu-index-1 " + active + " " + size + " " + chunking.min() + "/" + chunking.avg() + "/" + chunking.max()
                    + " " + fingerprint(ch, size);
            Map<String, Entry> loaded = load(file, binding, size, chunking, notes);
            if (loaded != null) return new ActiveSlotIndex(file, loaded, false);
            Map<String, Entry> built = new HashMap<>();
            StringBuilder text = new StringBuilder(binding).append('\n');
            ch.position(0);
            chunking.split(ch, size, (at, buf, off, len) -> {
                String id = Sha256.of(buf, off, len);
                if (built.putIfAbsent(id, new Entry(at, len)) == null) text.append(id).append(' ').append(at).append(' ').append(len).append('\n');
            });
            DurableFiles.writeAtomically(file, text.toString().getBytes(StandardCharsets.US_ASCII));
            return new ActiveSlotIndex(file, built, true);
        }
    }

    private static Map<String, Entry> load(Path file, String binding, long size, Chunking chunking, List<FillReport.Note> notes) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return null;
        } catch (java.nio.charset.MalformedInputException e) {
            notes.add(new FillReport.Note(AgentError.ACTIVE_INDEX_INVALID, file + " is not text; rebuilt from the slot"));
            return null;
        }
        if (lines.isEmpty() || !lines.get(0).equals(binding)) return null; // another slot, size, chunking or content: rebuild quietly
        Map<String, Entry> m = new HashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] p = lines.get(i).split(" ");
            try {
                if (p.length != 3 || p[0].length() != 64) throw new NumberFormatException("3 fields expected");
                long at = Long.parseLong(p[1]);
                int len = Integer.parseInt(p[2]);
                if (at < 0 || len < 1 || len > chunking.max() || at + len > size) {
                    notes.add(new FillReport.Note(AgentError.ACTIVE_INDEX_INVALID, file + " line " + (i + 1) + " names bytes " + at + "+" + len
                            + " outside the active slot's " + size + " bytes (or longer than a chunk); rebuilt from the slot"));
                    return null;
                }
                m.putIfAbsent(p[0], new Entry(at, len));
            } catch (NumberFormatException e) {
                notes.add(new FillReport.Note(AgentError.ACTIVE_INDEX_INVALID, file + " line " + (i + 1) + " does not parse; rebuilt from the slot"));
                return null;
            }
        }
        return m;
    }

    private static String fingerprint(FileChannel ch, long size) throws IOException {
        MessageDigest d = Sha256.newDigest();
        ByteBuffer bb = ByteBuffer.allocate((int) Math.min(FINGERPRINT_BYTES, size));
        for (long at : new long[] {0, Math.max(0, size - bb.capacity())}) {
            bb.clear();
            while (bb.hasRemaining()) {
                if (ch.read(bb, at + bb.position()) < 0) break;
            }
            bb.flip();
            d.update(bb);
        }
        return Sha256.hex(d.digest());
    }

    Entry find(String identity) {
        return byIdentity.get(identity);
    }

    int size() {
        return byIdentity.size();
    }

    /** Whether this open read the whole slot to build the index (false: the persisted one was still bound to the slot). */
    boolean built() {
        return built;
    }

    /** The slot no longer holds what the index says: the next install rebuilds it. */
    void invalidate() throws IOException {
        Files.deleteIfExists(file);
    }
}
