package rsuota.hal.boot.uboot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.hal.boot.BootControl;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.BootState;
import rsuota.hal.boot.BootedSlotSource;
import rsuota.hal.boot.Slot;
import rsuota.hal.exec.ExternalCommand;

/**
 * A/B boot control through the U-Boot environment, using {@code fw_printenv}/{@code fw_setenv}
 * of libubootenv (Debian {@code libubootenv-tool}) and RAUC's U-Boot scheme ({@link UBootSlotEnv}):
 * {@code BOOT_ORDER="A B"}, {@code BOOT_A_LEFT}, {@code BOOT_B_LEFT}. The matching boot script
 * walks BOOT_ORDER, boots the first slot whose LEFT is above 0 after decrementing it and saving the
 * env, passes {@code rauc.slot=X} (or {@code rsu.slot=X}) to the kernel, and when no slot has tries
 * left resets every LEFT to the default and resets the board.
 *
 * <ul>
 *   <li>{@link #setTrial}: BOOT_ORDER = slot first, BOOT_slot_LEFT = tries (1..{@value UBootSlotEnv#MAX_TRIES}).
 *   <li>{@link #markGood}: slot first, BOOT_slot_LEFT = default tries. The boot script decrements
 *       LEFT at every boot, also of a committed slot, so the agent marks good after every boot.
 *   <li>{@link #markBad}: BOOT_slot_LEFT = 0; the slot stays in BOOT_ORDER (RAUC does the same).
 * </ul>
 *
 * <p>Good and on trial look the same in this scheme (both are "LEFT above 0");
 * {@link BootState#good()} says whether the boot script would boot the slot. Whether a trial is
 * in progress is the update engine's journal's knowledge.
 *
 * <p>Missing variables read as the boot script's defaults ("A B", default tries); garbage values
 * are a {@link BootControlException} naming the variable. When the env itself is unreadable (blank
 * or bad CRC), libubootenv falls back to the defaults file, as U-Boot falls back to its built-in
 * env: keep that file equal to U-Boot's default env, with a bootable order.
 *
 * <p>Every write also reads the variables back: libubootenv 0.3.2 silently ignores script lines
 * without '=' and still exits 0, and a write that did not land must not pass for one that did.
 */
public final class UBootControl implements BootControl {

    /** Generous: an env on NOR flash is erased and rewritten sector by sector, which takes seconds. */
    public static final Duration TOOL_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(UBootControl.class);

    private final Path config;
    private final Path defaultEnv;
    private final int defaultTries;
    private final BootedSlotSource bootedSlot;

    /**
     * @param fwEnvConfig   the {@code fw_env.config} naming the env device(s) (passed as {@code -c})
     * @param defaultEnvFile default env used while the env is blank or corrupt ({@code -f}); needed
     *                      for the first write to a blank env, which otherwise fails with "Cannot
     *                      read environment". Null: libubootenv's own default,
     *                      /etc/u-boot-initial-env
     * @param defaultTries  the boot script's default tries (RAUC: 3), 1..{@value UBootSlotEnv#MAX_TRIES}
     * @param bootedSlot    where the running slot is read from (kernel command line)
     */
    public UBootControl(Path fwEnvConfig, Path defaultEnvFile, int defaultTries, BootedSlotSource bootedSlot) {
        UBootSlotEnv.checkTries(defaultTries);
        this.config = fwEnvConfig;
        this.defaultEnv = defaultEnvFile;
        this.defaultTries = defaultTries;
        this.bootedSlot = bootedSlot;
    }

    @Override
    public Slot booted() throws BootControlException {
        return bootedSlot.bootedSlot();
    }

    @Override
    public synchronized void setTrial(Slot slot, int tries) throws BootControlException {
        if (tries < 1 || tries > UBootSlotEnv.MAX_TRIES) {
            throw new BootControlException("uboot backend: setTrial(" + slot + ", " + tries + ") refused: tries must be 1.."
                    + UBootSlotEnv.MAX_TRIES + " (U-Boot's setexpr writes hex, its test reads decimal; they agree only on 0..9)");
        }
        write(read().withTrial(slot, tries));
    }

    @Override
    public synchronized void markGood(Slot slot) throws BootControlException {
        write(read().withGood(slot, defaultTries));
    }

    @Override
    public synchronized void markBad(Slot slot) throws BootControlException {
        write(read().withBad(slot));
    }

    @Override
    public synchronized BootState state() throws BootControlException {
        return read().toState(booted());
    }

    @Override
    public String backendName() {
        return "uboot";
    }

    private UBootSlotEnv read() throws BootControlException {
        List<String> cmd = baseCommand("fw_printenv");
        cmd.add(UBootSlotEnv.BOOT_ORDER);
        for (Slot s : Slot.values()) cmd.add(UBootSlotEnv.leftVariable(s));
        ExternalCommand.Result r = run(cmd);
        if (r.stderr().contains("using default")) {
            log.warn("uboot backend: env in {} unreadable (blank or bad CRC); read the defaults from {}",
                    config, defaultEnv == null ? "/etc/u-boot-initial-env" : defaultEnv);
        }
        // Asked by name, fw_printenv prints "NAME=" for a variable that is not set: empty = missing.
        Map<String, String> vars = new HashMap<>();
        for (String line : r.stdout().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) vars.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return UBootSlotEnv.fromVariables(vars, defaultTries, backendName());
    }

    private void write(UBootSlotEnv env) throws BootControlException {
        // All variables of a change go into ONE fw_setenv -s call: libubootenv writes the whole env
        // block at once with a new CRC, and with a redundant env it writes the inactive copy with a
        // higher flag, so a power cut leaves either the old or the new block readable, never a mix.
        // One call per variable could stop between them, e.g. with the order switched to the trial
        // slot before its tries were set.
        StringBuilder script = new StringBuilder();
        // libubootenv's script syntax is "name=value" (U-Boot's old fw_setenv took "name value").
        env.variables().forEach((k, v) -> script.append(k).append('=').append(v).append('\n'));
        Path scriptFile = null;
        try {
            scriptFile = Files.createTempFile("rsu-fw_setenv-", ".txt");
            Files.writeString(scriptFile, script, StandardCharsets.UTF_8);
            List<String> cmd = baseCommand("fw_setenv");
            cmd.add("-s");
            cmd.add(scriptFile.toString());
            run(cmd);
        } catch (IOException e) {
            throw new BootControlException("uboot backend: cannot write the fw_setenv script: " + e, e);
        } finally {
            deleteQuietly(scriptFile);
        }
        UBootSlotEnv readBack = read();
        if (!readBack.equals(env)) {
            throw new BootControlException("uboot backend: fw_setenv exited 0 but the env in " + config
                    + " reads back as " + readBack.variables() + " instead of " + env.variables());
        }
    }

    private List<String> baseCommand(String tool) {
        List<String> cmd = new ArrayList<>(List.of(tool, "-c", config.toString()));
        if (defaultEnv != null) {
            cmd.add("-f");
            cmd.add(defaultEnv.toString());
        }
        return cmd;
    }

    private ExternalCommand.Result run(List<String> cmd) throws BootControlException {
        ExternalCommand.Result r;
        try {
            r = ExternalCommand.run(cmd, TOOL_TIMEOUT);
        } catch (IOException e) {
            throw new BootControlException("uboot backend: " + cmd.get(0) + " failed: " + e.getMessage(), e);
        }
        if (r.exitCode() != 0) {
            throw new BootControlException("uboot backend: " + cmd.get(0) + " exited " + r.exitCode() + ": "
                    + r.stderrForMessage() + " (config " + config + ")");
        }
        return r;
    }

    private static void deleteQuietly(Path p) {
        if (p == null) return;
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // A leftover temp file in /tmp harms nothing; the env write's outcome is what matters.
            log.debug("could not delete {}: {}", p, e.toString());
        }
    }
}
