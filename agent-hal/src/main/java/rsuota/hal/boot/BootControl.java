package rsuota.hal.boot;

/**
 * The bootloader's A/B selection, seen from the running system.
 *
 * <p>Contract: every method either completes the whole change or leaves an environment in which
 * the bootloader still boots a good slot (backends say in their code how). Failures of the
 * underlying tool or file are reported as {@link BootControlException} with the backend's name and
 * the tool's output; they are never swallowed.
 *
 * <p>Safe order for an update (the engine's job, not the backend's): mark the target bad, write it,
 * verify it, {@link #setTrial} it, reboot, check health, {@link #markGood} it.
 */
public interface BootControl {

    /** The slot the running system booted from. */
    Slot booted() throws BootControlException;

    /** The slot that is not running: the only one the agent may write. */
    default Slot inactive() throws BootControlException {
        return booted().other();
    }

    /**
     * Makes {@code slot} the first choice for the next boots, with {@code tries} attempts; when
     * they are used up the bootloader falls back to the other slot. The other slot keeps its state.
     */
    void setTrial(Slot slot, int tries) throws BootControlException;

    /** Commits {@code slot}: first in the boot order, tries restored, no longer on trial. */
    void markGood(Slot slot) throws BootControlException;

    /** Makes {@code slot} unbootable (tries 0 / not OK) so the bootloader never picks it. */
    void markBad(Slot slot) throws BootControlException;

    /** The bootloader's view of both slots, as read from its environment. */
    BootState state() throws BootControlException;

    /** Short backend name for messages and status ("uboot", "grub", "sim"). */
    String backendName();
}
