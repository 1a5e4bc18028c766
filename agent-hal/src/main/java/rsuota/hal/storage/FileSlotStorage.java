package rsuota.hal.storage;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumMap;
import java.util.Map;
import rsuota.hal.boot.Slot;

/**
 * Slots as paths: block devices on a box ({@code /dev/mmcblk0p2}), regular files in the lab and
 * tests ({@link #createSimulated}).
 *
 * <p>Opening never creates and never truncates: a missing path is an {@link IOException} naming
 * the slot and path (on a box a missing device node means a wrong configuration, and creating a
 * regular file in /dev would silently "install" into RAM), and a resumed install writes at offsets
 * into what is already there.
 */
public final class FileSlotStorage implements SlotStorage {

    public static final String SIMULATED_A = "slot-a.img";
    public static final String SIMULATED_B = "slot-b.img";

    private final Map<Slot, Path> paths;

    public FileSlotStorage(Path slotA, Path slotB) {
        Map<Slot, Path> m = new EnumMap<>(Slot.class);
        m.put(Slot.A, slotA);
        m.put(Slot.B, slotB);
        this.paths = Map.copyOf(m);
    }

    /**
     * Creates (or resizes) {@code dir}/slot-a.img and slot-b.img as sparse files of
     * {@code sizeBytes} each, so a lab device costs no disk until written, and returns storage over
     * them. Existing contents below {@code sizeBytes} are kept.
     */
    public static FileSlotStorage createSimulated(Path dir, long sizeBytes) throws IOException {
        if (sizeBytes <= 0) throw new IllegalArgumentException("slot size must be positive, got " + sizeBytes);
        Files.createDirectories(dir);
        Path a = dir.resolve(SIMULATED_A);
        Path b = dir.resolve(SIMULATED_B);
        for (Path p : new Path[] {a, b}) {
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.setLength(sizeBytes);
            }
        }
        return new FileSlotStorage(a, b);
    }

    /** Where {@code slot} lives. */
    public Path path(Slot slot) {
        return paths.get(slot);
    }

    @Override
    public long size(Slot slot) throws IOException {
        Path p = existing(slot);
        if (Files.isRegularFile(p)) return Files.size(p);
        // Block device: Files.size reports the inode's st_size, which is 0 for a device node; the
        // JDK's FileChannel.size() asks the kernel for the device's size (BLKGETSIZE64) instead.
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            return ch.size();
        } catch (IOException e) {
            throw new IOException("slot " + slot + ": cannot read the size of " + p + ": " + e, e);
        }
    }

    @Override
    public FileChannel openForWrite(Slot slot) throws IOException {
        // WRITE without CREATE or TRUNCATE_EXISTING: never make a file where a device should be,
        // never drop bytes a resumed install already wrote.
        return open(slot, StandardOpenOption.WRITE, StandardOpenOption.READ);
    }

    @Override
    public FileChannel openForRead(Slot slot) throws IOException {
        return open(slot, StandardOpenOption.READ);
    }

    @Override
    public String describe(Slot slot) {
        return paths.get(slot).toString();
    }

    private FileChannel open(Slot slot, StandardOpenOption... options) throws IOException {
        Path p = existing(slot);
        try {
            return FileChannel.open(p, options);
        } catch (NoSuchFileException e) {
            throw missing(slot, p, e);
        } catch (IOException e) {
            throw new IOException("slot " + slot + ": cannot open " + p + ": " + e, e);
        }
    }

    private Path existing(Slot slot) throws IOException {
        Path p = paths.get(slot);
        if (!Files.exists(p)) throw missing(slot, p, null);
        return p;
    }

    private static IOException missing(Slot slot, Path p, Throwable cause) {
        NoSuchFileException e = new NoSuchFileException(p.toString(), null,
                "slot " + slot + " storage does not exist (check the slot device configuration)");
        if (cause != null) e.initCause(cause);
        return e;
    }
}
