package rsuota.hal.boot.uboot;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.BootState;
import rsuota.hal.boot.Slot;

/**
 * RAUC's U-Boot A/B scheme as a value: {@code BOOT_ORDER} ("A B", first choice first) and
 * {@code BOOT_A_LEFT} / {@code BOOT_B_LEFT} (boot attempts left). The real backend
 * ({@link UBootControl}) and the simulation ({@code rsuota.hal.boot.sim}) share it so both follow
 * the same rules, including the boot script's ({@link #boot}).
 *
 * <p>Missing variables take the values RAUC's example boot script gives them
 * ({@code test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"}, and the default tries for each
 * {@code BOOT_x_LEFT}), because that is what U-Boot will do with them at the next boot.
 * Anything else unexpected is refused with a {@link BootControlException} naming the variable.
 *
 * @param order slots in boot order; a slot absent from it is never booted
 * @param left  boot attempts left per slot, both slots present
 */
public record UBootSlotEnv(List<Slot> order, Map<Slot, Integer> left) {

    public static final String BOOT_ORDER = "BOOT_ORDER";
    public static final String DEFAULT_ORDER = "A B";

    /**
     * Largest tries count we write. U-Boot's {@code setexpr} computes in hex and stores the result
     * as hex digits ("10" - 1 = "f"), while {@code test ... -gt 0} reads decimal ("f" is 0): only
     * 0..9 mean the same to both, so a larger count would silently lose attempts.
     */
    public static final int MAX_TRIES = 9;

    public UBootSlotEnv {
        order = List.copyOf(order);
        if (order.isEmpty() || order.stream().distinct().count() != order.size()) {
            throw new IllegalArgumentException("boot order must name each slot at most once and not be empty: " + order);
        }
        EnumMap<Slot, Integer> copy = new EnumMap<>(Slot.class);
        copy.putAll(left);
        if (copy.size() != Slot.values().length) {
            throw new IllegalArgumentException("tries left must be given for every slot: " + left);
        }
        left = Map.copyOf(copy);
    }

    /** The env name of a slot's tries counter: {@code BOOT_A_LEFT}, {@code BOOT_B_LEFT}. */
    public static String leftVariable(Slot slot) {
        return "BOOT_" + slot.name() + "_LEFT";
    }

    /** A fresh env: {@code first} then the other slot, both with {@code defaultTries}. */
    public static UBootSlotEnv initial(Slot first, int defaultTries) {
        checkTries(defaultTries);
        return new UBootSlotEnv(List.of(first, first.other()), Map.of(Slot.A, defaultTries, Slot.B, defaultTries));
    }

    /**
     * Reads the scheme from env variables. A missing or empty variable takes the boot script's
     * default; a BOOT_ORDER word other than A or B, a slot named twice, or a tries value that is
     * not a non-negative decimal number is a {@link BootControlException} "{backend} backend: ...".
     */
    public static UBootSlotEnv fromVariables(Map<String, String> vars, int defaultTries, String backend)
            throws BootControlException {
        String orderText = vars.getOrDefault(BOOT_ORDER, "").strip();
        if (orderText.isEmpty()) orderText = DEFAULT_ORDER;
        List<Slot> order = new ArrayList<>();
        for (String word : orderText.split("\\s+")) {
            // U-Boot's script compares "x${BOOT_SLOT}" = "xA" exactly: "a" would never boot.
            Slot slot = switch (word) {
                case "A" -> Slot.A;
                case "B" -> Slot.B;
                default -> throw new BootControlException(backend + " backend: " + BOOT_ORDER + "='"
                        + orderText + "' contains '" + word + "' (expected words A and B, e.g. \"A B\")");
            };
            if (order.contains(slot)) {
                throw new BootControlException(backend + " backend: " + BOOT_ORDER + "='" + orderText
                        + "' names slot " + slot + " twice");
            }
            order.add(slot);
        }
        Map<Slot, Integer> left = new EnumMap<>(Slot.class);
        for (Slot slot : Slot.values()) {
            String name = leftVariable(slot);
            String text = vars.getOrDefault(name, "").strip();
            if (text.isEmpty()) {
                left.put(slot, defaultTries);
            } else if (text.matches("[0-9]{1,6}")) {
                left.put(slot, Integer.parseInt(text));
            } else {
                throw new BootControlException(backend + " backend: " + name + "='" + text
                        + "' is not a tries count (expected a decimal number 0.." + MAX_TRIES + ")");
            }
        }
        return new UBootSlotEnv(order, left);
    }

    /** The three variables in the form the boot script reads them, in a stable order. */
    public Map<String, String> variables() {
        Map<String, String> vars = new LinkedHashMap<>();
        vars.put(BOOT_ORDER, String.join(" ", order.stream().map(Slot::name).toList()));
        for (Slot slot : Slot.values()) {
            vars.put(leftVariable(slot), Integer.toString(left.get(slot)));
        }
        return vars;
    }

    /** {@code slot} first in the order with {@code tries} attempts; the other slot is untouched. */
    public UBootSlotEnv withTrial(Slot slot, int tries) {
        checkTries(tries);
        return new UBootSlotEnv(first(slot), with(slot, tries));
    }

    /** {@code slot} first in the order with the default attempts restored. */
    public UBootSlotEnv withGood(Slot slot, int defaultTries) {
        return withTrial(slot, defaultTries);
    }

    /**
     * {@code slot} with no attempts left. It stays in BOOT_ORDER, as RAUC leaves it: the boot
     * script skips it, and its last-resort reset can still boot it if the other slot is gone too.
     */
    public UBootSlotEnv withBad(Slot slot) {
        return new UBootSlotEnv(order, with(slot, 0));
    }

    /** A slot counts as good when the boot script would still boot it (RAUC reads it the same way). */
    public BootState toState(Slot booted) {
        Map<Slot, Boolean> good = new EnumMap<>(Slot.class);
        for (Slot slot : Slot.values()) good.put(slot, left.get(slot) > 0);
        return new BootState(booted, order, left, good);
    }

    /** What one run of the boot script leaves: the env to save and the slot it boots. */
    public record Boot(UBootSlotEnv env, Slot slot) {}

    /**
     * One run of RAUC's U-Boot boot script: the first slot in BOOT_ORDER with attempts left loses
     * one and boots. When none has any, the script sets every slot's attempts back to the default,
     * saves and resets the board, so the next run boots the first slot in the order; this returns
     * the result of that next run.
     */
    public Boot boot(int defaultTries) {
        checkTries(defaultTries);
        for (Slot slot : order) {
            int n = left.get(slot);
            if (n > 0) return new Boot(new UBootSlotEnv(order, with(slot, n - 1)), slot);
        }
        UBootSlotEnv reset = new UBootSlotEnv(order, Map.of(Slot.A, defaultTries, Slot.B, defaultTries));
        // Terminates: the order is never empty and every slot now has defaultTries >= 1.
        return reset.boot(defaultTries);
    }

    private List<Slot> first(Slot slot) {
        List<Slot> result = new ArrayList<>();
        result.add(slot);
        for (Slot s : order) if (s != slot) result.add(s);
        return result;
    }

    private Map<Slot, Integer> with(Slot slot, int value) {
        Map<Slot, Integer> m = new EnumMap<>(left);
        m.put(slot, value);
        return m;
    }

    /** Throws IllegalArgumentException unless 1 <= tries <= {@link #MAX_TRIES}. */
    public static void checkTries(int tries) {
        if (tries < 1 || tries > MAX_TRIES) {
            throw new IllegalArgumentException("tries must be 1.." + MAX_TRIES + ", got " + tries
                    + " (U-Boot's setexpr writes hex, its test reads decimal; they agree only on 0..9)");
        }
    }
}
