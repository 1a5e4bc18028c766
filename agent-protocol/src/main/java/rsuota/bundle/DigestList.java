package rsuota.bundle;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * An immutable list of SHA-256 digests held as 32 raw bytes each in one array, read back as the
 * 64 lower-case hex digits the manifest spells them in. A format 2 manifest names every chunk
 * twice (identity and stored hash): 12,000 chunks of a 1 GiB image as {@code String}s take about
 * 2 MiB of an install's heap, as raw digests 0.75 MiB (docs/benchmarks.md, "Install peak RSS").
 *
 * <p>{@link #copyOf} packs a list only when every entry is canonical (64 lower-case hex digits);
 * anything else is kept as given, so that validation ({@link ManifestCodec}) names the bad entry.
 */
final class DigestList extends AbstractList<String> implements RandomAccess {
    static final int BYTES = 32;

    private final byte[] digests;

    private DigestList(byte[] digests) {
        this.digests = digests;
    }

    /** The list packed, or {@link List#copyOf} of it if an entry is not a canonical digest (null entries throw as there). */
    static List<String> copyOf(List<String> hex) {
        if (hex instanceof DigestList) return hex;
        byte[] packed = new byte[hex.size() * BYTES];
        int i = 0;
        for (String h : hex) {
            if (!pack(h, packed, i * BYTES)) return List.copyOf(hex);
            i++;
        }
        return new DigestList(packed);
    }

    /** Writes the 32 bytes {@code hex} spells at {@code at}; false if it is not 64 lower-case hex digits. */
    static boolean pack(String hex, byte[] into, int at) {
        if (hex == null || hex.length() != 2 * BYTES) return false;
        for (int k = 0; k < BYTES; k++) {
            int hi = nibble(hex.charAt(2 * k));
            int lo = nibble(hex.charAt(2 * k + 1));
            if (hi < 0 || lo < 0) return false;
            into[at + k] = (byte) (hi << 4 | lo);
        }
        return true;
    }

    private static int nibble(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    }

    static String hex(byte[] from, int at) {
        // HexFormat makes the string from its own Latin-1 bytes: not through String(byte[], Charset),
        // whose 840 bytes of code C2 would compile again for this caller (docs/benchmarks.md)
        return HEX.formatHex(from, at, at + BYTES);
    }

    private static final java.util.HexFormat HEX = java.util.HexFormat.of();

    @Override
    public String get(int index) {
        return hex(digests, java.util.Objects.checkIndex(index, size()) * BYTES);
    }

    @Override
    public int size() {
        return digests.length / BYTES;
    }
}
