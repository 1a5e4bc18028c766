package rsuota.hal.boot;

/** The two A/B slots. Names match the bootloader variables (BOOT_A_LEFT, A_OK, ...). */
public enum Slot {
    A, B;

    public Slot other() {
        return this == A ? B : A;
    }

    /** Parses "A"/"B" (case-insensitive); throws IllegalArgumentException naming the bad value. */
    public static Slot parse(String s) {
        if (s != null) {
            String t = s.trim().toUpperCase(java.util.Locale.ROOT);
            if (t.equals("A")) return A;
            if (t.equals("B")) return B;
        }
        throw new IllegalArgumentException("not a slot name: '" + s + "' (expected A or B)");
    }
}
