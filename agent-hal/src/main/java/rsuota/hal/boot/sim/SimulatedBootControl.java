package rsuota.hal.boot.sim;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import rsuota.hal.boot.BootControl;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.BootState;
import rsuota.hal.boot.Slot;
import rsuota.hal.boot.uboot.UBootSlotEnv;

/**
 * A U-Boot bootloader simulated in a directory, for the lab and tests: the same variables and
 * rules as {@link rsuota.hal.boot.uboot.UBootControl} (RAUC's U-Boot scheme, {@link UBootSlotEnv}),
 * kept in the file {@value #ENV_FILE} together with the slot that runs now and the boot script's
 * default tries. A "reboot" is: {@link #simulateBoot()} (what U-Boot does before the kernel
 * starts), then a new agent over the same directory, which reads its booted slot from the file.
 *
 * <p>Every change is written atomically (temp file, fsync, rename, fsync of the directory), so a
 * lab that kills the agent at any instant finds either the old or the new env, like a redundant
 * U-Boot env. Every call re-reads the file, so several instances over one directory (the lab's
 * and the agent's) see each other's changes. A missing file, a missing {@code BOOTED} entry or a
 * garbage value is a {@link BootControlException} naming the file and variable; missing
 * {@code BOOT_*} variables read as the boot script's defaults, as on U-Boot.
 */
public final class SimulatedBootControl implements BootControl {

    public static final String ENV_FILE = "bootenv.properties";
    /** The slot the simulated kernel was started with (the sim's /proc/cmdline). */
    public static final String BOOTED = "BOOTED";
    /** The boot script's default tries, fixed at {@link #create} like U-Boot's compiled-in script. */
    public static final String DEFAULT_TRIES = "DEFAULT_TRIES";

    private final Path dir;

    private SimulatedBootControl(Path dir) {
        this.dir = dir;
    }

    /**
     * Initialises a fresh env in {@code dir} (created if missing), replacing any env there:
     * {@code initialBooted} runs and is first in BOOT_ORDER, both slots have {@code defaultTries}
     * (1..{@value UBootSlotEnv#MAX_TRIES}).
     */
    public static SimulatedBootControl create(Path dir, Slot initialBooted, int defaultTries)
            throws BootControlException {
        UBootSlotEnv.checkTries(defaultTries);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new BootControlException("sim backend: cannot create " + dir + ": " + e, e);
        }
        SimulatedBootControl sim = new SimulatedBootControl(dir);
        sim.save(new Stored(UBootSlotEnv.initial(initialBooted, defaultTries), initialBooted, defaultTries));
        return sim;
    }

    /** Attaches to the env {@link #create} made in {@code dir}; fails if there is none. */
    public static SimulatedBootControl open(Path dir) throws BootControlException {
        SimulatedBootControl sim = new SimulatedBootControl(dir);
        sim.load();
        return sim;
    }

    /** The file holding the env, for messages and tests. */
    public Path envFile() {
        return dir.resolve(ENV_FILE);
    }

    @Override
    public synchronized Slot booted() throws BootControlException {
        return load().booted();
    }

    @Override
    public synchronized void setTrial(Slot slot, int tries) throws BootControlException {
        if (tries < 1 || tries > UBootSlotEnv.MAX_TRIES) {
            throw new BootControlException("sim backend: setTrial(" + slot + ", " + tries + ") refused: tries must be 1.."
                    + UBootSlotEnv.MAX_TRIES + ", as on U-Boot");
        }
        Stored s = load();
        save(s.withEnv(s.env().withTrial(slot, tries)));
    }

    @Override
    public synchronized void markGood(Slot slot) throws BootControlException {
        Stored s = load();
        save(s.withEnv(s.env().withGood(slot, s.defaultTries())));
    }

    @Override
    public synchronized void markBad(Slot slot) throws BootControlException {
        Stored s = load();
        save(s.withEnv(s.env().withBad(slot)));
    }

    @Override
    public synchronized BootState state() throws BootControlException {
        Stored s = load();
        return s.env().toState(s.booted());
    }

    @Override
    public String backendName() {
        return "sim";
    }

    /**
     * What U-Boot's boot script does at power-on: the first slot in BOOT_ORDER with tries left
     * loses one and boots; if none has any, every slot gets the default tries back and the first in
     * the order boots (RAUC's script resets the board after that, the next run boots it). The
     * booted slot is saved as {@code BOOTED} and returned. Call it with no agent running over the
     * directory, then start the agent.
     */
    public synchronized Slot simulateBoot() throws BootControlException {
        Stored s = load();
        UBootSlotEnv.Boot boot = s.env().boot(s.defaultTries());
        save(new Stored(boot.env(), boot.slot(), s.defaultTries()));
        return boot.slot();
    }

    /**
     * A boot attempt that never reaches userspace (kernel hang, panic, watchdog reset before the
     * agent starts): the env changes as in {@link #simulateBoot()}, one try is used, but
     * {@code BOOTED} keeps the last slot that did start, since no agent ran to see this one.
     * Returns the slot whose attempt hung. Follow it with more hangs or a {@link #simulateBoot()}.
     */
    public synchronized Slot simulateHang() throws BootControlException {
        Stored s = load();
        UBootSlotEnv.Boot boot = s.env().boot(s.defaultTries());
        save(s.withEnv(boot.env()));
        return boot.slot();
    }

    private record Stored(UBootSlotEnv env, Slot booted, int defaultTries) {
        Stored withEnv(UBootSlotEnv e) {
            return new Stored(e, booted, defaultTries);
        }
    }

    private Stored load() throws BootControlException {
        Path file = envFile();
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BootControlException("sim backend: no simulated boot env at " + file
                    + " (initialise it with SimulatedBootControl.create)", e);
        } catch (IOException e) {
            throw new BootControlException("sim backend: cannot read " + file + ": " + e, e);
        }
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
        } catch (IOException | IllegalArgumentException e) {
            throw new BootControlException("sim backend: " + file + " is not a properties file: " + e.getMessage(), e);
        }
        Map<String, String> vars = new HashMap<>();
        p.stringPropertyNames().forEach(k -> vars.put(k, p.getProperty(k)));

        String triesText = vars.getOrDefault(DEFAULT_TRIES, "").strip();
        if (!triesText.matches("[1-9]")) {
            throw new BootControlException("sim backend: " + DEFAULT_TRIES + "='" + triesText + "' in " + file
                    + " (expected 1.." + UBootSlotEnv.MAX_TRIES + ")");
        }
        int defaultTries = Integer.parseInt(triesText);
        String bootedText = vars.get(BOOTED);
        Slot booted;
        try {
            booted = Slot.parse(bootedText);
        } catch (IllegalArgumentException e) {
            throw new BootControlException("sim backend: " + BOOTED + "='" + bootedText + "' in " + file
                    + " (expected A or B)", e);
        }
        return new Stored(UBootSlotEnv.fromVariables(vars, defaultTries, "sim"), booted, defaultTries);
    }

    private void save(Stored s) throws BootControlException {
        StringBuilder text = new StringBuilder("# simulated U-Boot env (rsuota.hal.boot.sim.SimulatedBootControl)\n");
        s.env().variables().forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        text.append(BOOTED).append('=').append(s.booted().name()).append('\n');
        text.append(DEFAULT_TRIES).append('=').append(s.defaultTries()).append('\n');
        try {
            rsuota.hal.storage.DurableFiles.writeAtomically(envFile(), text.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new BootControlException("sim backend: cannot write " + envFile() + ": " + e, e);
        }
    }
}
