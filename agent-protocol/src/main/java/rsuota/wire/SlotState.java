package rsuota.wire;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What a device says of each of its A/B slots ({@code state.slots[].state}, {@code rsu-agent slots}):
 * one vocabulary for the agent's own record, the wire and the CLI. {@link WireCodec} refuses any other
 * word on the wire, naming it.
 */
public enum SlotState {
    /** Nothing installed (a fresh box's other slot). */
    EMPTY,
    /** Being written by a download; not bootable (marked bad in the bootloader first). */
    WRITING,
    /** Written and read back against the signed manifest; not yet tried. */
    VERIFIED,
    /** Set for a trial boot, or booted on trial and not yet committed. */
    TRIAL,
    /** Committed after its health window (or the factory release): the slot to fall back to. */
    GOOD,
    /** Failed its trial or its health window, or left behind by a rollback: never booted again as is. */
    BAD;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether {@code wire} names this state (false for null). */
    public boolean is(String wire) {
        return wire().equals(wire);
    }

    public static Optional<SlotState> of(String wire) {
        return Arrays.stream(values()).filter(s -> s.is(wire)).findFirst();
    }

    public static String names() {
        return Arrays.stream(values()).map(SlotState::wire).collect(Collectors.joining(", "));
    }
}
