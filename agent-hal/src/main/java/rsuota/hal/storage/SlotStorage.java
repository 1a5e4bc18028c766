package rsuota.hal.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import rsuota.hal.boot.Slot;

/**
 * The two slots' storage (block devices on a box, files in the simulation and tests).
 *
 * <p>Contract: {@link #openForWrite} never truncates (a resumed install writes at offsets into the
 * same slot); callers call {@link FileChannel#force(boolean)} to make written bytes durable. I/O
 * failures surface as {@link IOException} carrying the slot and path.
 */
public interface SlotStorage {

    /** Capacity of the slot in bytes. */
    long size(Slot slot) throws IOException;

    /** Opens the slot for positional writes (and reads). The caller closes it. */
    FileChannel openForWrite(Slot slot) throws IOException;

    /** Opens the slot read-only. The caller closes it. */
    FileChannel openForRead(Slot slot) throws IOException;

    /** Where the slot lives, for messages ("/dev/mmcblk0p3", "/var/lib/rsu/slot-b.img"). */
    String describe(Slot slot);
}
