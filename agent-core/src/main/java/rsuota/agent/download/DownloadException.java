package rsuota.agent.download;

import java.io.IOException;
import rsuota.hal.boot.Slot;

/**
 * Filling a slot failed for good: the retries are spent or the failure is fatal (bad signature,
 * wrong bundle, no space, the slot did not keep what was written). {@link #code()} is the stable
 * reason the engine reports as {@code failed}; the message says what and where.
 */
public class DownloadException extends Exception {
    private final String code;

    public DownloadException(String code, String message) {
        super(message);
        this.code = code;
    }

    public DownloadException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public String code() {
        return code;
    }

    /**
     * Classifies a failed write or read of local storage: the kernel's message is all there is to
     * tell a full disk or a read-only mount from a failing device. {@code slot} may be null when
     * the failing storage is not a slot (the state directory).
     */
    public static DownloadException io(Slot slot, IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("No space left")) return new DownloadException("NO_SPACE", "no space left: " + m, e);
        if (m.contains("Read-only file system")) return new DownloadException("READ_ONLY", "read-only file system: " + m, e);
        return new DownloadException("SLOT_IO_ERROR", "slot " + slot + ": " + e, e);
    }
}
