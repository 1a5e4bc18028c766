package rsuota.bundle;

import java.util.Arrays;

/**
 * The last {@code size} bytes of an image as it streams past: the raw dictionary each format 2
 * chunk is compressed with ({@link ManifestImage.Cdc#prefix}). Used by the writer and by a reader
 * that has no slot to read them back from.
 */
public final class PrefixWindow {
    private final byte[] buf;
    private int len;

    public PrefixWindow(int size) {
        this.buf = new byte[size];
    }

    /** The bytes before the next chunk: at most {@code size}. When full, the internal array: read it, do not keep it. */
    public byte[] bytes() {
        return len == buf.length ? buf : Arrays.copyOf(buf, len);
    }

    public void append(byte[] b, int off, int n) {
        if (buf.length == 0) return;
        if (n >= buf.length) {
            System.arraycopy(b, off + n - buf.length, buf, 0, buf.length);
            len = buf.length;
            return;
        }
        int keep = Math.min(len, buf.length - n);
        System.arraycopy(buf, len - keep, buf, 0, keep);
        System.arraycopy(b, off, buf, keep, n);
        len = keep + n;
    }
}
