package rsuota.agent.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import rsuota.agent.AgentExit;
import rsuota.bundle.Pem;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.Slot;
import rsuota.hal.boot.sim.SimulatedBootControl;
import rsuota.hal.storage.FileSlotStorage;

/** Makes a simulated roadside unit in a directory, for the lab and for trying the agent without hardware. */
@Command(name = "sim-init", mixinStandardHelpOptions = true,
        description = "Create a simulated RSU in DIR: config, two slot files, simulated bootloader; prints DIR/agent.conf.")
final class SimInitCommand extends DeviceCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR") Path dir;
    @Option(names = "--variant", paramLabel = "VARIANT", required = true, description = "device variant, e.g. rsu-a1") String variant;
    @Option(names = "--slot-size", paramLabel = "SIZE", required = true, description = "size of each slot, e.g. 64MiB") String slotSize;
    @Option(names = "--keyring", paramLabel = "PEM", required = true, description = "trust anchors (PEM) the device verifies bundles with") Path keyring;
    @Option(names = "--release", paramLabel = "VERSION", defaultValue = "1.0.0", description = "release the simulated box runs (default ${DEFAULT-VALUE})") String release;
    @Option(names = "--device-id", paramLabel = "DEVICE-ID", description = "device id (default: the directory name)") String deviceId;
    @Option(names = "--running-image", paramLabel = "IMAGE",
            description = "the image the simulated box runs: written into its running slot A, so that installs reuse its chunks as on a real unit")
    Path runningImage;
    @Option(names = "--region", paramLabel = "REGION", defaultValue = "") String region;
    @Option(names = "--corridor", paramLabel = "CORRIDOR", defaultValue = "") String corridor;

    @Override
    public Integer call() throws Failure {
        long size = parseSize(spec, slotSize);
        Path conf = dir.resolve("agent.conf");
        if (Files.exists(conf)) throw new Failure(AgentExit.STATE, "sim-init: " + conf + " exists; refusing to overwrite a device (remove the directory first)");
        try {
            Pem.certificates(keyring);
        } catch (Pem.PemException e) {
            throw new Failure(AgentExit.CONFIG, "CONFIG: keyring " + e.getMessage());
        } catch (IOException e) {
            throw new Failure(AgentExit.CONFIG, "CONFIG: keyring " + keyring + ": " + e);
        }
        if (runningImage != null) {
            try {
                if (Files.size(runningImage) > size) {
                    throw new Failure(AgentExit.CONFIG, "CONFIG: --running-image " + runningImage + " (" + Files.size(runningImage)
                            + " bytes) does not fit a slot of " + size + " bytes; give a larger --slot-size");
                }
            } catch (IOException e) {
                throw new Failure(AgentExit.CONFIG, "CONFIG: --running-image " + runningImage + ": " + e);
            }
        }
        String id = deviceId != null ? deviceId : dir.toAbsolutePath().getFileName().toString();
        try {
            Files.createDirectories(dir.resolve("state"));
            Files.copy(keyring, dir.resolve("keyring.pem"), StandardCopyOption.REPLACE_EXISTING);
            FileSlotStorage slots = FileSlotStorage.createSimulated(dir, size);
            if (runningImage != null) {
                try (var in = java.nio.channels.FileChannel.open(runningImage); var out = slots.openForWrite(Slot.A)) {
                    long pos = 0;
                    while (pos < in.size()) pos += in.transferTo(pos, in.size() - pos, out.position(pos));
                    out.force(false);
                }
            }
            SimulatedBootControl.create(dir.resolve("boot"), Slot.A, 3);
            String text = String.join("\n",
                    "# Simulated roadside unit made by 'rsu-agent sim-init'. Paths are relative to this file.",
                    "device.id=" + id, "device.variant=" + variant, "device.region=" + region, "device.corridor=" + corridor,
                    "keyring=keyring.pem", "state.dir=state",
                    "boot.backend=sim", "boot.sim.dir=boot", "boot.tries=3",
                    "slot.a=" + FileSlotStorage.SIMULATED_A, "slot.b=" + FileSlotStorage.SIMULATED_B,
                    "system.release=" + release,
                    "download.retry.base=1s", "download.retry.max=1m", "download.retry.maxFailures=10",
                    "download.stallTimeout=30s",
                    "# the daemon's control socket: beside this file, so that several simulated units run side by side",
                    "control.socket=control.sock", "");
            rsuota.hal.storage.DurableFiles.writeAtomically(conf, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException | BootControlException e) {
            throw new Failure(AgentExit.STATE, "sim-init: cannot create " + dir + ": " + e.getMessage());
        }
        spec.commandLine().getOut().println(conf.toAbsolutePath());
        return 0;
    }
}
