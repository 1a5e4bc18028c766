package rsuota.hal.boot;

/**
 * Tells which slot the running system booted from, as the bootloader handed it over (kernel
 * command line, device tree, ...). Bootloader environments say what the next boot will do, not
 * what this boot did, so backends ask this instead of their environment.
 *
 * <p>Fails with {@link BootControlException} naming the source when it cannot be read or does not
 * name a slot; it never guesses.
 */
@FunctionalInterface
public interface BootedSlotSource {
    Slot bootedSlot() throws BootControlException;
}
