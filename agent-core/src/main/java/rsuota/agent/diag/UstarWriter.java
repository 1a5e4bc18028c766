package rsuota.agent.diag;

import java.util.Locale;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

/**
 * A minimal POSIX ustar writer (regular files only), enough for GNU tar, bsdtar and Python's
 * tarfile: 512-byte header, content padded to 512, two zero blocks at the end. Names longer than
 * 100 bytes use the 155-byte prefix field; non-ASCII characters become '_'.
 */
final class UstarWriter {

    static final int BLOCK = 512;
    /** The ustar size field holds 11 octal digits. */
    static final long MAX_ENTRY = 077777777777L;

    private final OutputStream out;
    private long written;

    UstarWriter(OutputStream out) {
        this.out = out;
    }

    /** Bytes written so far: headers, content and padding (the uncompressed tar size). */
    long written() {
        return written;
    }

    /** What an entry of {@code size} bytes costs in the tar stream. */
    static long cost(long size) {
        return BLOCK + padded(size);
    }

    static long padded(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK;
    }

    void add(String name, byte[] content, Instant mtime) throws IOException {
        header(name, content.length, mtime);
        out.write(content);
        pad(content.length);
    }

    /**
     * Writes exactly {@code size} bytes from {@code in}; if it ends early (a log rotated while it
     * was read), the rest is filled with newlines so the archive stays well-formed. Returns the
     * bytes really read.
     */
    long add(String name, long size, InputStream in, Instant mtime) throws IOException {
        header(name, size, mtime);
        byte[] buf = new byte[64 * 1024];
        long left = size;
        long read = 0;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) break;
            out.write(buf, 0, n);
            left -= n;
            read += n;
        }
        if (left > 0) {
            Arrays.fill(buf, (byte) '\n');
            while (left > 0) {
                int n = (int) Math.min(buf.length, left);
                out.write(buf, 0, n);
                left -= n;
            }
        }
        written += size;
        pad(size);
        return read;
    }

    /** The end-of-archive marker: two zero blocks. */
    void finish() throws IOException {
        out.write(new byte[2 * BLOCK]);
        written += 2 * BLOCK;
    }

    private void pad(long size) throws IOException {
        int rest = (int) (padded(size) - size);
        if (rest > 0) out.write(new byte[rest]);
        written += rest;
    }

    private void header(String rawName, long size, Instant mtime) throws IOException {
        if (size < 0 || size > MAX_ENTRY) throw new IOException("tar entry " + rawName + " too large: " + size);
        byte[] h = new byte[BLOCK];
        String name = ascii(rawName);
        String prefix = "";
        if (name.length() > 100) {
            int cut = name.lastIndexOf('/', 155);
            if (cut > 0 && name.length() - cut - 1 <= 100) {
                prefix = name.substring(0, cut);
                name = name.substring(cut + 1);
            } else {
                // No usable split: keep the end (the file name) and a hash for uniqueness.
                name = Integer.toHexString(rawName.hashCode()) + "-" + name.substring(name.length() - 90);
            }
        }
        put(h, 0, 100, name);
        put(h, 100, 8, "0000644");
        put(h, 108, 8, "0000000");
        put(h, 116, 8, "0000000");
        put(h, 124, 12, String.format(Locale.US, "%011o", size));
        put(h, 136, 12, String.format(Locale.US, "%011o", Math.max(0, mtime.getEpochSecond())));
        Arrays.fill(h, 148, 156, (byte) ' ');
        h[156] = '0';
        put(h, 257, 6, "ustar");
        put(h, 263, 2, "00");
        put(h, 265, 32, "root");
        put(h, 297, 32, "root");
        put(h, 345, 155, prefix);
        long sum = 0;
        for (byte b : h) sum += b & 0xff;
        // Checksum: six octal digits, NUL, space (computed with the field as spaces).
        put(h, 148, 6, String.format(Locale.US, "%06o", sum));
        h[154] = 0;
        h[155] = ' ';
        out.write(h);
        written += BLOCK;
    }

    private static void put(byte[] h, int at, int len, String value) {
        byte[] v = value.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(v, 0, h, at, Math.min(v.length, len));
    }

    private static String ascii(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) sb.append(c >= 0x20 && c < 0x7f ? c : '_');
        return sb.toString();
    }
}
