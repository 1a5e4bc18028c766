package rsuota.agent.download;

import java.io.IOException;
import java.nio.file.Path;
import rsuota.hal.boot.Slot;
import rsuota.hal.storage.SlotStorage;

/**
 * Where a download goes: the slot to write (on {@code storage}, which knows its size) and the
 * directory where its journal lives, so a restart resumes at the first chunk not yet durable.
 * The caller chooses the slot (never the running one) and has made it unbootable before
 * {@link SlotFiller#fill} changes its first byte.
 *
 * @param active the running slot, whose chunks a format 2 bundle may reuse (read only); null: reuse nothing
 */
public record DownloadTarget(SlotStorage storage, Slot slot, Path journalDir, Slot active) {

    public DownloadTarget(SlotStorage storage, Slot slot, Path journalDir) {
        this(storage, slot, journalDir, null);
    }

    long size() throws IOException {
        return storage.size(slot);
    }

    String describe() {
        return storage.describe(slot);
    }
}
