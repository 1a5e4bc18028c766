package rsuota.hal.boot;

import java.util.List;
import java.util.Map;

/**
 * Bootloader state as read from its environment.
 *
 * @param booted    the slot running now
 * @param order     boot order, first choice first (slots absent from the order are never booted)
 * @param triesLeft remaining boot attempts per slot (0 = bad / unbootable)
 * @param good      whether the bootloader considers the slot committed (not on trial, not bad)
 */
public record BootState(Slot booted, List<Slot> order, Map<Slot, Integer> triesLeft, Map<Slot, Boolean> good) {
    public BootState {
        order = List.copyOf(order);
        triesLeft = Map.copyOf(triesLeft);
        good = Map.copyOf(good);
    }

    /** The slot the bootloader will try first at the next boot, or null if none is bootable. */
    public Slot nextBoot() {
        for (Slot s : order) {
            if (triesLeft.getOrDefault(s, 0) > 0) return s;
        }
        return null;
    }
}
