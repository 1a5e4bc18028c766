package rsuota.hal.boot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the booted slot from a kernel command line such as {@code /proc/cmdline}, where the boot
 * script puts {@code rauc.slot=A} (RAUC's convention) or {@code rsu.slot=B}.
 *
 * <p>The file is read on every call (it is tiny and the value must never go stale in tests that
 * swap it). When the key appears several times the last one counts, as for the kernel's own
 * parameters where a later value overrides an earlier one. A missing key or a value that is not a
 * slot name is a {@link BootControlException} naming the file and key.
 */
public final class KernelCmdlineBootedSlot implements BootedSlotSource {
    private final Path cmdline;
    private final String key;

    public KernelCmdlineBootedSlot(Path cmdline, String key) {
        if (key == null || key.isBlank() || key.contains("=") || key.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("kernel parameter name must be a non-empty word without '=': '" + key + "'");
        }
        this.cmdline = cmdline;
        this.key = key;
    }

    @Override
    public Slot bootedSlot() throws BootControlException {
        String text;
        try {
            text = Files.readString(cmdline, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BootControlException("booted slot: cannot read " + cmdline + ": " + e, e);
        }
        String value = null;
        for (String word : text.trim().split("\\s+")) {
            if (word.startsWith(key + "=")) {
                value = word.substring(key.length() + 1);
            }
        }
        if (value == null) {
            throw new BootControlException("booted slot: no " + key + "= parameter in " + cmdline
                    + " (the boot script must pass " + key + "=A or " + key + "=B to the kernel)");
        }
        // Boot scripts sometimes quote values; the kernel keeps the quotes in /proc/cmdline.
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            value = value.substring(1, value.length() - 1);
        }
        try {
            return Slot.parse(value);
        } catch (IllegalArgumentException e) {
            throw new BootControlException("booted slot: " + key + "=" + value + " in " + cmdline
                    + " is not a slot name (expected A or B)", e);
        }
    }

    @Override
    public String toString() {
        return key + " in " + cmdline;
    }
}
