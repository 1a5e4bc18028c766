package rsuota.agent.update;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import rsuota.agent.cli.RsuAgent;
import rsuota.agent.config.AgentConfig;
import rsuota.agent.config.Assembly;
import rsuota.agent.download.Sleeper;
import rsuota.agent.report.EventSink;
import rsuota.fixtures.bundle.BundleBuilder;
import rsuota.fixtures.pki.TestPki;
import rsuota.hal.boot.BootControl;
import rsuota.hal.boot.Slot;
import rsuota.hal.boot.sim.SimulatedBootControl;
import rsuota.hal.exec.ExternalCommand;
import rsuota.wire.SlotState;

/**
 * systemd/rsu-agent-fallback, the fallback that rsu-agent.service's OnFailure= runs when the agent
 * cannot start on a trial slot, run for real (sh) against the journal a real engine wrote and each
 * boot backend's environment: the simulated U-Boot env, a file-backed U-Boot env written by the real
 * fw_setenv, a GRUB environment block written by the real grub-editenv. A "power-on" is what each
 * bootloader would pick; the agent that "cannot start" is simply not run on the trial slot. After
 * the fallback the agent of the good slot must report the release as rolled back (boot_failed).
 */
class TrialSlotFallbackTest {
    static final TestPki PKI = new TestPki();
    static final Path SCRIPT = Path.of(System.getProperty("user.dir")).getParent().resolve("systemd/rsu-agent-fallback");
    static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(60);

    @TempDir Path tmp;

    enum Backend { SIM, UBOOT, GRUB }

    /** A simulated unit (rsu-agent sim-init) whose boot.* settings point at a file-backed env of {@code backend}. */
    final class Box {
        final Backend backend;
        final Path dir = tmp.resolve("rsu-9");
        final Path conf = dir.resolve("agent.conf");
        final Path cmdline = dir.resolve("cmdline");
        final Path rebooted = tmp.resolve("rebooted");
        final List<String> reboots = new ArrayList<>();

        Box(Backend backend) throws Exception {
            this.backend = backend;
            Path ca = Files.writeString(tmp.resolve("ca.pem"), TestPki.pem("CERTIFICATE", PKI.root.cert().getEncoded()));
            StringWriter err = new StringWriter();
            int code = RsuAgent.run(new String[] {"sim-init", dir.toString(), "--variant", "rsu-a1", "--slot-size", "1MiB",
                    "--keyring", ca.toString(), "--release", "1.2.0"}, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
            assertThat(code).as(err.toString()).isZero();
            Files.writeString(cmdline, "console=ttyS0 root=/dev/mmcblk0p2 rsu.slot=A rw\n");
            String boot = switch (backend) {
                case SIM -> "";
                case UBOOT -> {
                    Path env = dir.resolve("uboot-env.bin");
                    try (RandomAccessFile raf = new RandomAccessFile(env.toFile(), "rw")) {
                        raf.setLength(0x4000);
                    }
                    Files.writeString(dir.resolve("fw_env.config"), env + " 0x0 0x4000\n");
                    Files.writeString(dir.resolve("u-boot-initial-env"), "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n");
                    yield "boot.backend=uboot\nboot.uboot.config=fw_env.config\nboot.uboot.defaults=u-boot-initial-env\nboot.cmdline=cmdline\n";
                }
                // GRUB's scheme has one try (a flag, not a counter).
                case GRUB -> "boot.backend=grub\nboot.grub.env=grubenv\nboot.cmdline=cmdline\nboot.tries=1\n";
            };
            Files.writeString(conf, boot, StandardOpenOption.APPEND);
            if (backend != Backend.SIM) bootControl().markGood(Slot.A); // the image's first boot was committed
        }

        AgentConfig config() throws Exception {
            return AgentConfig.load(conf);
        }

        BootControl bootControl() throws Exception {
            return Assembly.bootControl(config());
        }

        /** The update engine as the daemon builds it, with a reboot that is only recorded. */
        UpdateEngine engine() throws Exception {
            AgentConfig c = config();
            return new UpdateEngine(c.stateDir(), Assembly.parts(c, EventSink.DISCARD, Clock.systemUTC(), Sleeper.REAL, CrashHook.NONE,
                    reboots::add, null, null));
        }

        /** Power-on: the slot the bootloader picks from its env starts (its tries counted as the bootloader does). */
        Slot powerOn() throws Exception {
            if (backend == Backend.SIM) return SimulatedBootControl.open(dir.resolve("boot")).simulateBoot();
            Slot next = bootControl().state().nextBoot();
            assertThat(next).as("a bootable slot").isNotNull();
            if (backend == Backend.GRUB) {
                // GRUB flags the slot it picks as tried; only a mark-good clears it.
                ExternalCommand.run(List.of("grub-editenv", dir.resolve("grubenv").toString(), "set", next.name() + "_TRY=1"), SCRIPT_TIMEOUT);
            }
            Files.writeString(cmdline, "console=ttyS0 rsu.slot=" + next.name() + " rw\n");
            return next;
        }

        /** The bootloader environment as bytes, to prove a run changed nothing. */
        byte[] env() throws IOException {
            return Files.readAllBytes(switch (backend) {
                case SIM -> dir.resolve("boot/" + SimulatedBootControl.ENV_FILE);
                case UBOOT -> dir.resolve("uboot-env.bin");
                case GRUB -> dir.resolve("grubenv");
            });
        }

        /** Installs and activates a new release: the trial of slot B is set and a reboot asked for. */
        void installNewRelease() throws Exception {
            Path bundle = new BundleBuilder(tmp).signedBy(PKI, PKI.signer).image("rootfs", 150_000).chunkSize(64 * 1024).build("new.rsub");
            UpdateEngine e = engine();
            e.order(new EngineState.Order(bundle.toString(), null, null, 0, false, null));
            EngineState s = e.run();
            assertThat(s.state()).isEqualTo(UpdateState.ACTIVATING);
            assertThat(reboots).hasSize(1);
        }

        Run fallback(String... args) throws Exception {
            return fallback(conf, args);
        }

        Run fallback(Path config, String... args) throws Exception {
            List<String> cmd = new ArrayList<>(List.of("sh", SCRIPT.toString(), "--config", config.toString()));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).start();
            p.getOutputStream().close();
            if (!p.waitFor(SCRIPT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("rsu-agent-fallback did not end within " + SCRIPT_TIMEOUT);
            }
            return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                    new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        }

        /** The script's reboot, recorded in a file instead of rebooting this machine. */
        Run fallbackWithReboot() throws Exception {
            return fallback("--reboot-command", "touch " + rebooted);
        }
    }

    record Run(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\nstdout: " + out + "\nstderr: " + err;
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void anAgentThatCannotStartOnItsTrialSlotFallsBackToTheCommittedSlot(Backend backend) throws Exception {
        Box box = new Box(backend);
        box.installNewRelease();
        assertThat(box.powerOn()).isEqualTo(Slot.B);
        // The agent of slot B dies at every start; systemd gives up and runs the fallback.
        Run r = box.fallbackWithReboot();
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("cannot start on slot B, on trial with release 2.4.0 (engine ACTIVATING): falling back to slot A")
                .contains("rebooting (touch ");
        assertThat(box.rebooted).exists();
        var boot = box.bootControl().state();
        assertThat(boot.triesLeft().get(Slot.B)).isZero();
        assertThat(boot.nextBoot()).isEqualTo(Slot.A);
        assertThat(box.powerOn()).isEqualTo(Slot.A);
        // The agent of slot A picks up its journal and reports what happened.
        EngineState s = box.engine().run();
        assertThat(s.state()).isEqualTo(UpdateState.ROLLED_BACK);
        assertThat(s.lastError().code()).isEqualTo("boot_failed");
        assertThat(s.slot("B").status()).isEqualTo(SlotState.BAD.wire());
        assertThat(s.slot("A").status()).isEqualTo(SlotState.GOOD.wire());
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void anAgentThatDiesDuringTheCommitWindowFallsBackToo(Backend backend) throws Exception {
        Box box = new Box(backend);
        box.installNewRelease();
        assertThat(box.powerOn()).isEqualTo(Slot.B);
        // It started once: the trial booted, health checks began; then it crashes at every start.
        assertThat(box.engine().run().state()).isEqualTo(UpdateState.COMMITTING);
        Run r = box.fallbackWithReboot();
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("(engine COMMITTING): falling back to slot A");
        assertThat(box.powerOn()).isEqualTo(Slot.A);
        EngineState s = box.engine().run();
        assertThat(s.state()).isEqualTo(UpdateState.ROLLED_BACK);
        assertThat(s.lastError().code()).isEqualTo("boot_failed");
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aCommittedSlotIsNeverLeft(Backend backend) throws Exception {
        Box box = new Box(backend);
        // No journal yet (the agent never ran), then a journal of a committed slot.
        byte[] before = box.env();
        Run none = box.fallbackWithReboot();
        assertThat(none.code()).as(none.toString()).isZero();
        assertThat(none.out()).contains("no update journal").contains("nothing to do");
        assertThat(box.env()).isEqualTo(before);
        assertThat(box.engine().run().state()).isEqualTo(UpdateState.IDLE);
        before = box.env();
        Run idle = box.fallbackWithReboot();
        assertThat(idle.code()).as(idle.toString()).isZero();
        assertThat(idle.out()).contains("the engine is IDLE, no trial under way: slot A stays");
        assertThat(box.env()).isEqualTo(before);
        assertThat(box.rebooted).doesNotExist();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aTrialSetButNotYetBootedIsLeftToTheBootloader(Backend backend) throws Exception {
        Box box = new Box(backend);
        box.installNewRelease();
        // The agent on slot A set the trial and asked for the reboot, then fails before the reboot
        // happens: the trial slot's tries are the bootloader's business, slot A is committed.
        byte[] before = box.env();
        Run r = box.fallbackWithReboot();
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("the trial is of slot B, slot A runs").contains("nothing to do");
        assertThat(box.env()).isEqualTo(before);
        assertThat(box.rebooted).doesNotExist();
    }

    /** Every bad input is named with what to do, changes no env and reboots nothing. */
    @Test
    void badInputsAreNamedAndChangeNothing() throws Exception {
        Box box = new Box(Backend.UBOOT);
        box.installNewRelease();
        assertThat(box.powerOn()).isEqualTo(Slot.B);
        byte[] before = box.env();

        Run usage = box.fallback("--frobnicate");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("unknown argument '--frobnicate'").contains("usage: rsu-agent-fallback");

        Run noConf = box.fallback(tmp.resolve("missing.conf"), "--reboot-command", "touch " + box.rebooted);
        assertThat(noConf.code()).isEqualTo(4);
        assertThat(noConf.err()).contains("cannot read the configuration " + tmp.resolve("missing.conf"));

        String conf = Files.readString(box.conf);
        Files.writeString(box.conf, conf + "boot.backend=lilo\n");
        Run backend = box.fallbackWithReboot();
        assertThat(backend.code()).isEqualTo(4);
        assertThat(backend.err()).contains("boot.backend=lilo in " + box.conf + " (expected sim, uboot or grub)");

        // fw_setenv cannot open the env device: nothing written, no reboot.
        Files.writeString(box.conf, conf + "boot.uboot.config=" + tmp.resolve("no-fw_env.config") + "\n");
        Run tool = box.fallbackWithReboot();
        assertThat(tmp.resolve("no-fw_env.config")).doesNotExist();
        assertThat(tool.code()).as(tool.toString()).isEqualTo(6);
        assertThat(tool.err()).contains("uboot: fw_setenv -c " + tmp.resolve("no-fw_env.config") + " exited").contains("slot B stays");

        Files.writeString(box.conf, conf);
        Files.writeString(box.cmdline, "console=ttyS0 rw\n");
        Run cmdline = box.fallbackWithReboot();
        assertThat(cmdline.code()).isEqualTo(6);
        assertThat(cmdline.err()).contains("cannot tell the running slot: rsu.slot= in " + box.cmdline + " is '' (expected A or B)");
        Files.writeString(box.cmdline, "rsu.slot=B\n");

        Path journal = box.dir.resolve("state/engine.json");
        String engineJson = Files.readString(journal);
        Files.writeString(journal, "{ \"not\" : \"a journal\" }");
        Run corrupt = box.fallbackWithReboot();
        assertThat(corrupt.code()).isEqualTo(6);
        assertThat(corrupt.err()).contains(journal + " has no \"state\" field");

        // Nothing committed to return to (the previous slot's record says bad): stay.
        Files.writeString(journal, engineJson.replaceFirst("(\"A\" : \\{[^}]*\"status\" : \")good\"", "$1bad\""));
        assertThat(Files.readString(journal)).isNotEqualTo(engineJson);
        Run nothingGood = box.fallbackWithReboot();
        assertThat(nothingGood.code()).as(nothingGood.toString()).isZero();
        assertThat(nothingGood.err()).contains("slot A holds no committed release (journal: 'bad'): staying on slot B");

        assertThat(box.env()).isEqualTo(before);
        assertThat(box.rebooted).doesNotExist();
    }
}
