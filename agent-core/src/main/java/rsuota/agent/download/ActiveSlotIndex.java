package rsuota.agent.download;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
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
    /** Raw SHA-256 identities, sorted (32 bytes each), with where each lies: about 44 bytes a chunk. */
    private byte[] ids;
    private long[] offsets;
    private int[] lengths;
    private final boolean built;

    private ActiveSlotIndex(Path file, Table t, boolean built) {
        this.file = file;
        this.ids = t.ids;
        this.offsets = t.offsets;
        this.lengths = t.lengths;
        this.built = built;
    }

    /** Loads the persisted index if it still describes {@code active}, else builds and persists it. */
    static ActiveSlotIndex open(SlotStorage storage, Slot active, Path dir, Chunking chunking, List<FillReport.Note> notes) throws IOException {
        Path file = dir.resolve(FILE);
        long size = storage.size(active);
        try (FileChannel ch = storage.openForRead(active)) {
            String binding = "rsu-index-1 " + active + " " + size + " " + chunking.min() + "/" + chunking.avg() + "/" + chunking.max()
                    + " " + fingerprint(ch, size);
            Table loaded = load(file, binding, size, chunking, notes);
            if (loaded != null) return new ActiveSlotIndex(file, loaded, false);
            Table built = new Table();
            MessageDigest d = Sha256.newDigest();
            ch.position(0);
            chunking.split(ch, size, (at, buf, off, len) -> {
                d.update(buf, off, len);
                built.add(d.digest(), at, len);
            });
            built.sort();
            DurableFiles.writeAtomically(file, out -> {
                out.write((binding + "\n").getBytes(StandardCharsets.US_ASCII));
                for (int i = 0; i < built.n; i++) {
                    out.write((built.hex(i) + " " + built.offsets[i] + " " + built.lengths[i] + "\n").getBytes(StandardCharsets.US_ASCII));
                }
            });
            return new ActiveSlotIndex(file, built, true);
        }
    }

    private static Table load(Path file, String binding, long size, Chunking chunking, List<FillReport.Note> notes) throws IOException {
        // line by line: a 1 GiB slot's index is ~12,000 lines, which as a list of strings would cost more heap than the table
        CharsetDecoder strict = StandardCharsets.US_ASCII.newDecoder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(file), strict), 8192)) {
            if (!binding.equals(r.readLine())) return null; // another slot, size, chunking or content: rebuild quietly
            Table t = new Table();
            int lineNo = 1;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lineNo++;
                String[] p = line.split(" ");
                try {
                    byte[] id = p.length == 3 ? digest(p[0]) : null;
                    if (id == null) throw new NumberFormatException("3 fields expected");
                    long at = Long.parseLong(p[1]);
                    int len = Integer.parseInt(p[2]);
                    if (at < 0 || len < 1 || len > chunking.max() || at + len > size) {
                        notes.add(new FillReport.Note(AgentError.ACTIVE_INDEX_INVALID, file + " line " + lineNo + " names bytes " + at + "+" + len
                                + " outside the active slot's " + size + " bytes (or longer than a chunk); rebuilt from the slot"));
                        return null;
                    }
                    t.add(id, at, len);
                } catch (NumberFormatException e) {
                    notes.add(new FillReport.Note(AgentError.ACTIVE_INDEX_INVALID, file + " line " + lineNo + " does not parse; rebuilt from the slot"));
                    return null;
                }
            }
            t.sort();
            return t;
        } catch (NoSuchFileException e) {
            return null;
        } catch (java.nio.charset.CharacterCodingException e) {
            notes.add(new FillReport.Note(AgentError.ACTIVE_INDEX_INVALID, file + " is not text; rebuilt from the slot"));
            return null;
        }
    }

    /** 64 hex digits (either case, as the file was always read) as 32 bytes, or null if it is not that. */
    private static byte[] digest(String hex) {
        if (hex.length() != 2 * Table.ID) return null;
        try {
            return java.util.HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Identities and places in parallel arrays, grown while adding, then sorted by identity with
     * the first one added kept of each identity (the first occurrence in the slot, as read).
     */
    private static final class Table {
        static final int ID = 32;
        byte[] ids = new byte[64 * ID];
        long[] offsets = new long[64];
        int[] lengths = new int[64];
        int n;

        void add(byte[] id, long at, int len) {
            if (n == offsets.length) {
                int cap = n * 2;
                ids = java.util.Arrays.copyOf(ids, cap * ID);
                offsets = java.util.Arrays.copyOf(offsets, cap);
                lengths = java.util.Arrays.copyOf(lengths, cap);
            }
            System.arraycopy(id, 0, ids, n * ID, ID);
            offsets[n] = at;
            lengths[n] = len;
            n++;
        }

        int compare(int a, int b) {
            return java.util.Arrays.compareUnsigned(ids, a * ID, a * ID + ID, ids, b * ID, b * ID + ID);
        }

        void sort() {
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            java.util.Arrays.sort(order, (a, b) -> {
                int c = compare(a, b);
                return c != 0 ? c : Integer.compare(a, b);
            });
            byte[] sid = new byte[n * ID];
            long[] so = new long[n];
            int[] sl = new int[n];
            int m = 0;
            for (int k = 0; k < n; k++) {
                int i = order[k];
                if (m > 0 && java.util.Arrays.compareUnsigned(sid, (m - 1) * ID, m * ID, ids, i * ID, i * ID + ID) == 0) continue;
                System.arraycopy(ids, i * ID, sid, m * ID, ID);
                so[m] = offsets[i];
                sl[m] = lengths[i];
                m++;
            }
            ids = java.util.Arrays.copyOf(sid, m * ID);
            offsets = java.util.Arrays.copyOf(so, m);
            lengths = java.util.Arrays.copyOf(sl, m);
            n = m;
        }

        String hex(int i) {
            return Sha256.hex(java.util.Arrays.copyOfRange(ids, i * ID, i * ID + ID));
        }
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

    /** Where the slot holds the chunk of this identity (64 hex digits), or null. */
    Entry find(String identity) {
        byte[] key = digest(identity);
        if (key == null) return null;
        int lo = 0;
        int hi = offsets.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = java.util.Arrays.compareUnsigned(ids, mid * Table.ID, mid * Table.ID + Table.ID, key, 0, Table.ID);
            if (c == 0) return new Entry(offsets[mid], lengths[mid]);
            if (c < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        return null;
    }

    int size() {
        return offsets.length;
    }

    /** Drops the table once the fill is planned (it holds ~44 bytes a chunk); {@link #find} then finds nothing. */
    void release() {
        ids = new byte[0];
        offsets = new long[0];
        lengths = new int[0];
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
