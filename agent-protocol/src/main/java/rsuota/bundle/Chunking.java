package rsuota.bundle;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.SplittableRandom;

/**
 * Content-defined chunk boundaries (FastCDC: a gear rolling hash with normalised chunking), so that
 * bytes inserted into an image move only the chunks around them; every later chunk keeps its
 * boundaries and its hash. ext4 lays a rebuilt image out anew, which defeats fixed-size blocks
 * (FIELD-NOTES: 64 KiB fixed blocks reused almost nothing on a 96 MiB pair).
 *
 * <p>The gear table is drawn from a fixed seed with {@link SplittableRandom}, whose sequence the
 * JDK specifies, so the writer, the agent's index of its active slot and {@code rsu-bundle estimate}
 * cut the same bytes at the same places on every JVM. Changing the seed or the masks changes every
 * boundary: it would be a new format.
 *
 * @param min bytes before a boundary may be cut (no hashing below it: FastCDC's skip)
 * @param avg target average, a power of two
 * @param max hard cut
 */
public record Chunking(int min, int avg, int max) {
    /** 16 KiB / 64 KiB / 256 KiB: the FastCDC paper's ratios around the 64 KiB average. */
    public static final Chunking DEFAULT = new Chunking(16 * 1024, 64 * 1024, 256 * 1024);
    /** Smallest minimum accepted: below ~1 KiB the manifest costs more than reuse saves. */
    public static final int MIN_MIN = 1024;

    private static final long[] GEAR = new long[256];

    static {
        SplittableRandom r = new SplittableRandom(0x5253554F54413243L); // "RSUOTA2C"
        for (int i = 0; i < 256; i++) GEAR[i] = r.nextLong();
    }

    public Chunking {
        if (min < MIN_MIN || avg <= min || max <= avg || Integer.bitCount(avg) != 1 || max > BundleFormat.MAX_CHUNK_SIZE
                || max < BundleFormat.MIN_CHUNK_SIZE) {
            throw new IllegalArgumentException("chunking " + min + "/" + avg + "/" + max + ": need " + MIN_MIN + " <= min < avg < max, avg a power of two, "
                    + BundleFormat.MIN_CHUNK_SIZE + " <= max <= " + BundleFormat.MAX_CHUNK_SIZE);
        }
    }

    /** Mask with {@code bits} one-bits at the top: the gear hash's high bits depend on the last 64 bytes, the low ones on only a few. */
    private static long topMask(int bits) {
        return bits <= 0 ? 0 : -1L << (64 - bits);
    }

    /**
     * Length of the chunk that starts at {@code buf[off]}, given {@code n} bytes there. The caller
     * passes at least {@link #max} bytes unless the data ends sooner.
     */
    public int cut(byte[] buf, int off, int n) {
        if (n <= min) return n;
        int bits = Integer.numberOfTrailingZeros(avg);
        long maskS = topMask(bits + 1); // harder before the average: fewer small chunks
        long maskL = topMask(bits - 1); // easier after it: fewer chunks cut at max
        int end = Math.min(n, max);
        int normal = Math.min(avg, end);
        long h = 0;
        int i = min;
        for (; i < normal; i++) {
            h = (h << 1) + GEAR[buf[off + i] & 0xff];
            if ((h & maskS) == 0) return i + 1;
        }
        for (; i < end; i++) {
            h = (h << 1) + GEAR[buf[off + i] & 0xff];
            if ((h & maskL) == 0) return i + 1;
        }
        return end;
    }

    static final int READ_SLICE = 256 * 1024;

    /** Receives each chunk in order; {@code buf} is reused after the call returns. */
    public interface Sink {
        void chunk(long offset, byte[] buf, int off, int len) throws IOException;
    }

    /**
     * Cuts everything {@code in} delivers, up to {@code limit} bytes, in constant memory (a buffer
     * of twice {@link #max}). Returns the bytes read.
     */
    public long split(ReadableByteChannel in, long limit, Sink sink) throws IOException {
        byte[] buf = new byte[2 * max];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        int pos = 0;
        int lim = 0;
        long offset = 0;
        boolean eof = false;
        while (true) {
            if (!eof && lim - pos < max) {
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                lim -= pos;
                pos = 0;
                while (lim < buf.length && !eof) {
                    long left = limit - offset - lim;
                    if (left <= 0) {
                        eof = true;
                        break;
                    }
                    // at most 256 KiB a read: the JDK reads a heap buffer through a direct buffer of the
                    // read's size and keeps it for the thread
                    bb.clear().position(lim).limit((int) Math.min(Math.min(buf.length, lim + left), lim + READ_SLICE));
                    int r = in.read(bb);
                    if (r < 0) eof = true;
                    else lim += r;
                }
            }
            if (pos == lim) return offset;
            int len = cut(buf, pos, lim - pos);
            sink.chunk(offset, buf, pos, len);
            pos += len;
            offset += len;
        }
    }
}
