package rsuota.agent.config;

import java.io.IOException;
import java.time.Clock;
import rsuota.agent.download.HttpBundleSource;
import rsuota.agent.download.RetryPolicy;
import rsuota.agent.download.Sleeper;
import rsuota.agent.report.EventSink;
import rsuota.agent.update.CrashHook;
import rsuota.agent.update.UpdateEngine;
import rsuota.bundle.Pem;
import rsuota.hal.boot.BootControl;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.KernelCmdlineBootedSlot;
import rsuota.hal.boot.grub.GrubControl;
import rsuota.hal.boot.sim.SimulatedBootControl;
import rsuota.hal.boot.uboot.UBootControl;
import rsuota.hal.storage.FileSlotStorage;

/** Builds the engine's parts from a configuration: the one place backends are chosen. */
public final class Assembly {
    private Assembly() {}

    public static BootControl bootControl(AgentConfig c) throws BootControlException {
        return switch (c.bootBackend()) {
            case "sim" -> SimulatedBootControl.open(c.bootSimDir());
            case "uboot" -> new UBootControl(c.ubootConfig(), c.ubootDefaults(), c.bootTries(),
                    new KernelCmdlineBootedSlot(c.cmdline(), c.cmdlineKey()));
            case "grub" -> new GrubControl(c.grubEnv(), new KernelCmdlineBootedSlot(c.cmdline(), c.cmdlineKey()));
            default -> throw new BootControlException("unknown boot backend " + c.bootBackend());
        };
    }

    public static UpdateEngine.Parts parts(AgentConfig c, EventSink events, Clock clock, Sleeper sleeper, CrashHook hook)
            throws IOException, BootControlException, AgentConfig.ConfigException {
        java.util.List<java.security.cert.X509Certificate> keyring;
        try {
            keyring = Pem.certificates(c.keyring());
        } catch (Pem.PemException | java.nio.file.NoSuchFileException e) {
            throw new AgentConfig.ConfigException(c.file() + ": keyring " + c.keyring() + ": " + e.getMessage());
        }
        HttpBundleSource.Options http = new HttpBundleSource.Options(HttpBundleSource.Options.defaults().connectTimeout(),
                HttpBundleSource.Options.defaults().headerTimeout(), c.stallTimeout(), null);
        return new UpdateEngine.Parts(bootControl(c), new FileSlotStorage(c.slotA(), c.slotB()), keyring, c.variant(),
                c.clockTrusted(), c.systemRelease(), new RetryPolicy(c.retryBase(), c.retryMax(), c.retryMaxFailures()),
                http, events, clock, sleeper, hook);
    }
}
