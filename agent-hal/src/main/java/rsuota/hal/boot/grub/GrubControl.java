package rsuota.hal.boot.grub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import rsuota.hal.boot.BootControl;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.BootState;
import rsuota.hal.boot.BootedSlotSource;
import rsuota.hal.boot.Slot;
import rsuota.hal.exec.ExternalCommand;

/**
 * A/B boot control through the GRUB environment block ({@code grubenv}), using
 * {@code grub-editenv} (Debian {@code grub-common}) and RAUC's GRUB scheme. The boot script that
 * matches is the resource {@code rsuota/hal/boot/grub/rsu-ab.cfg}.
 *
 * <p>Variables: {@code ORDER} ("A B", first choice first), {@code A_OK}/{@code B_OK} (1 = may be
 * booted) and {@code A_TRY}/{@code B_TRY} (1 = GRUB picked the slot at a boot and nobody marked it
 * good since). At boot GRUB picks the first slot in ORDER with OK=1 and TRY=0 and sets its TRY=1
 * before booting it; a slot with TRY=1 is skipped. So:
 * <ul>
 *   <li><b>Exactly one try.</b> TRY is a flag, not a counter: {@link #setTrial} accepts only
 *       {@code tries == 1} and refuses anything else with a {@link BootControlException}, rather
 *       than pretend to give tries the bootloader will not. (A counter would need a different
 *       grub.cfg with arithmetic GRUB's script language does not have.)
 *   <li>{@link #setTrial} and {@link #markGood} write the same thing: slot first in ORDER, OK=1,
 *       TRY=0. {@link #markBad}: OK=0, TRY=0.
 *   <li>GRUB sets TRY=1 at every boot, also of a committed slot: the agent marks good after every
 *       boot, else the next boot falls back.
 *   <li>{@link BootState}: tries left and good are 1/true exactly when OK=1 and TRY=0, i.e. when
 *       GRUB would pick the slot (RAUC reads the state the same way). Pending trial and committed
 *       look the same; the update engine's journal knows which one it is.
 * </ul>
 *
 * <p>Each change is one {@code grub-editenv FILE set K=V ...} call. grub-editenv 2.06 rewrites an
 * existing file in place (open with truncate, write 1024 bytes, fsync), so a power cut during the
 * call can leave a short or empty file: grub-editenv then reports "invalid environment block" and
 * GRUB boots with the presets in rsu-ab.cfg (ORDER "A B", nothing OK: the script's last resort
 * boots the first slot in ORDER). Keep grubenv writes rare for that reason.
 *
 * <p>A missing file is created on first use with {@code grub-editenv FILE create} (an empty env:
 * every variable takes its preset). {@code create} is never run on an existing file, since it
 * would wipe it. Missing variables read as the presets (ORDER "A B", OK 0, TRY 0); other values
 * than 0/1, or ORDER words other than A/B, are a {@link BootControlException} naming the variable.
 */
public final class GrubControl implements BootControl {

    public static final String ORDER = "ORDER";
    public static final String DEFAULT_ORDER = "A B";

    /** grub-editenv touches a 1 KiB file; this only guards against a hung filesystem. */
    public static final Duration TOOL_TIMEOUT = Duration.ofSeconds(30);

    private final Path envFile;
    private final BootedSlotSource bootedSlot;

    /**
     * @param grubEnvFile the environment block GRUB's {@code load_env} reads, e.g. /boot/grub/grubenv
     * @param bootedSlot  where the running slot is read from (kernel command line)
     */
    public GrubControl(Path grubEnvFile, BootedSlotSource bootedSlot) {
        this.envFile = grubEnvFile;
        this.bootedSlot = bootedSlot;
    }

    public static String okVariable(Slot slot) {
        return slot.name() + "_OK";
    }

    public static String tryVariable(Slot slot) {
        return slot.name() + "_TRY";
    }

    @Override
    public Slot booted() throws BootControlException {
        return bootedSlot.bootedSlot();
    }

    @Override
    public synchronized void setTrial(Slot slot, int tries) throws BootControlException {
        if (tries != 1) {
            throw new BootControlException("grub backend: setTrial(" + slot + ", " + tries + ") refused: the GRUB"
                    + " scheme gives exactly one boot attempt (" + tryVariable(slot) + " is a flag, not a counter);"
                    + " use tries=1");
        }
        commit(slot);
    }

    @Override
    public synchronized void markGood(Slot slot) throws BootControlException {
        commit(slot);
    }

    @Override
    public synchronized void markBad(Slot slot) throws BootControlException {
        set(okVariable(slot) + "=0", tryVariable(slot) + "=0");
    }

    @Override
    public synchronized BootState state() throws BootControlException {
        Map<String, String> vars = list();
        List<Slot> order = parseOrder(vars.getOrDefault(ORDER, ""));
        Map<Slot, Integer> left = new EnumMap<>(Slot.class);
        Map<Slot, Boolean> good = new EnumMap<>(Slot.class);
        for (Slot s : Slot.values()) {
            // Both flags parsed before combining: garbage in TRY is an error even when OK=0.
            boolean ok = flag(vars, okVariable(s));
            boolean tried = flag(vars, tryVariable(s));
            boolean bootable = ok && !tried;
            left.put(s, bootable ? 1 : 0);
            good.put(s, bootable);
        }
        return new BootState(booted(), order, left, good);
    }

    @Override
    public String backendName() {
        return "grub";
    }

    /** Slot first in ORDER, OK=1, TRY=0: one call, so GRUB never sees the order without the flags. */
    private void commit(Slot slot) throws BootControlException {
        List<Slot> order = parseOrder(list().getOrDefault(ORDER, ""));
        List<String> names = new ArrayList<>();
        names.add(slot.name());
        for (Slot s : order) if (s != slot) names.add(s.name());
        set(ORDER + "=" + String.join(" ", names), okVariable(slot) + "=1", tryVariable(slot) + "=0");
    }

    private static List<Slot> parseOrder(String text) throws BootControlException {
        String t = text.strip();
        if (t.isEmpty()) t = DEFAULT_ORDER;
        List<Slot> order = new ArrayList<>();
        for (String word : t.split("\\s+")) {
            // rsu-ab.cfg compares with "A"/"B" exactly, so "a" would never boot.
            Slot slot = switch (word) {
                case "A" -> Slot.A;
                case "B" -> Slot.B;
                default -> throw new BootControlException("grub backend: " + ORDER + "='" + t + "' contains '"
                        + word + "' (expected words A and B, e.g. \"A B\")");
            };
            if (order.contains(slot)) {
                throw new BootControlException("grub backend: " + ORDER + "='" + t + "' names slot " + slot + " twice");
            }
            order.add(slot);
        }
        return order;
    }

    private static boolean flag(Map<String, String> vars, String name) throws BootControlException {
        String v = vars.getOrDefault(name, "").strip();
        return switch (v) {
            case "", "0" -> false;
            case "1" -> true;
            default -> throw new BootControlException("grub backend: " + name + "='" + v + "' (expected 0 or 1)");
        };
    }

    private Map<String, String> list() throws BootControlException {
        ensureExists();
        ExternalCommand.Result r = run(List.of("grub-editenv", envFile.toString(), "list"));
        Map<String, String> vars = new HashMap<>();
        for (String line : r.stdout().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) vars.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return vars;
    }

    private void set(String... assignments) throws BootControlException {
        ensureExists();
        List<String> cmd = new ArrayList<>(List.of("grub-editenv", envFile.toString(), "set"));
        cmd.addAll(List.of(assignments));
        run(cmd);
    }

    private void ensureExists() throws BootControlException {
        if (!Files.exists(envFile)) {
            run(List.of("grub-editenv", envFile.toString(), "create"));
        }
    }

    private ExternalCommand.Result run(List<String> cmd) throws BootControlException {
        ExternalCommand.Result r;
        try {
            r = ExternalCommand.run(cmd, TOOL_TIMEOUT);
        } catch (IOException e) {
            throw new BootControlException("grub backend: grub-editenv failed: " + e.getMessage(), e);
        }
        if (r.exitCode() != 0) {
            String hint = r.stderr().contains("invalid environment block")
                    ? " (" + envFile + " is not a GRUB environment block, e.g. torn by a power cut during an in-place"
                      + " rewrite; GRUB boots with rsu-ab.cfg's presets meanwhile. Recreate it with 'grub-editenv "
                      + envFile + " create' and mark the running slot good)"
                    : "";
            throw new BootControlException("grub backend: grub-editenv " + cmd.get(2) + " exited " + r.exitCode()
                    + ": " + r.stderrForMessage() + hint);
        }
        return r;
    }
}
