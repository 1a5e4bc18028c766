package rsuota.agent.config;

import java.io.IOException;
import java.time.Clock;
import rsuota.agent.AgentException;
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
import java.time.Duration;
import rsuota.agent.activation.ActivationConfig;
import rsuota.agent.activation.Inhibitors;
import rsuota.agent.health.HealthConfig;
import rsuota.hal.gpio.Gpio;
import rsuota.hal.gpio.GpioException;
import rsuota.hal.gpio.Pi4jGpio;
import rsuota.hal.gpio.SimulatedGpio;
import rsuota.hal.power.Reboot;
import rsuota.hal.power.SimulatedReboot;
import rsuota.hal.power.SystemctlReboot;

/** Builds the engine's parts from a configuration: the one place backends are chosen. */
public final class Assembly {
    private Assembly() {}

    public static BootControl bootControl(AgentConfig c) throws BootControlException {
        return switch (c.boot().backend()) {
            case "sim" -> SimulatedBootControl.open(c.boot().simDir());
            case "uboot" -> new UBootControl(c.boot().ubootConfig(), c.boot().ubootDefaults(), c.boot().tries(),
                    new KernelCmdlineBootedSlot(c.boot().cmdline(), c.boot().cmdlineKey()));
            case "grub" -> new GrubControl(c.boot().grubEnv(), new KernelCmdlineBootedSlot(c.boot().cmdline(), c.boot().cmdlineKey()));
            default -> throw new BootControlException("unknown boot backend " + c.boot().backend());
        };
    }

    /**
     * The reboot a box does: {@code systemctl reboot} on hardware; in the simulation the simulated
     * bootloader picks the next slot as a real one would at power-on (the agent process then ends
     * and the next start sees what booted).
     */
    public static Reboot defaultReboot(AgentConfig c) throws BootControlException {
        if (c.boot().backend().equals("sim")) {
            SimulatedBootControl sim = SimulatedBootControl.open(c.boot().simDir());
            return new SimulatedReboot(reason -> {
                try {
                    sim.simulateBoot();
                } catch (BootControlException e) {
                    throw new IOException("simulated boot failed: " + e.getMessage(), e);
                }
            });
        }
        return new SystemctlReboot();
    }

    /**
     * TLS for bundle downloads from a private CA: {@code download.tls.ca} (PEM) is the only trust,
     * optionally with a client certificate ({@code download.tls.cert} + {@code download.tls.key},
     * PKCS#8). Absent: the JDK's default trust store, loaded on the first TLS connection
     * ({@link LazyDefaultTls}: an install from an http:// URL never loads it).
     */
    static javax.net.ssl.SSLContext downloadTls(AgentConfig c) throws AgentConfig.ConfigException {
        AgentConfig.Download d = c.download();
        if (d.tlsCa() == null) return LazyDefaultTls.create();
        try {
            if (d.tlsCert() != null) {
                return new rsuota.agent.link.TlsFiles(d.tlsCa(), d.tlsCert(), d.tlsKey()).sslContext();
            }
            java.security.KeyStore ts = java.security.KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            int i = 0;
            for (var x : Pem.certificates(d.tlsCa())) ts.setCertificateEntry("ca" + i++, x);
            javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (AgentException | Pem.PemException | IOException | java.security.GeneralSecurityException e) {
            throw new AgentConfig.ConfigException(c.file() + ": download.tls.*: " + e.getMessage());
        }
    }

    /** GPIO for inhibitors: pi4j on Raspberry Pi based boards; in-memory pins in the simulation. */
    public static Gpio gpio(AgentConfig c, ActivationConfig a) throws AgentConfig.ConfigException {
        if (!a.needsGpio() || c.boot().backend().equals("sim")) return new SimulatedGpio();
        try {
            return Pi4jGpio.onRaspberryPi();
        } catch (GpioException e) {
            throw new AgentConfig.ConfigException(c.file() + ": inhibit.* pins are configured but GPIO is unavailable: " + e.getMessage());
        }
    }

    public static UpdateEngine.Parts parts(AgentConfig c, EventSink events, Clock clock, Sleeper sleeper, CrashHook hook)
            throws IOException, BootControlException, AgentConfig.ConfigException {
        return parts(c, events, clock, sleeper, hook, null, null, null);
    }

    /**
     * @param reboot              null: {@link #defaultReboot}
     * @param gpio                null: {@link #gpio}
     * @param controllerReachable answers the health probe {@code controller}; null without a link
     */
    public static UpdateEngine.Parts parts(AgentConfig c, EventSink events, Clock clock, Sleeper sleeper, CrashHook hook,
                                           Reboot reboot, Gpio gpio, java.util.function.BooleanSupplier controllerReachable)
            throws IOException, BootControlException, AgentConfig.ConfigException {
        java.util.List<java.security.cert.X509Certificate> keyring;
        try {
            keyring = Pem.certificates(c.keyring());
        } catch (Pem.PemException | java.nio.file.NoSuchFileException e) {
            throw new AgentConfig.ConfigException(c.file() + ": keyring " + c.keyring() + ": " + e.getMessage());
        }
        rsuota.agent.download.DownloadThreads.policy(c.download().cpuPolicy());
        HttpBundleSource.Options http = new HttpBundleSource.Options(HttpBundleSource.Options.defaults().connectTimeout(),
                HttpBundleSource.Options.defaults().headerTimeout(), c.download().stallTimeout(), downloadTls(c), c.download().bandwidth(), clock);
        ActivationConfig act = c.activation();
        HealthConfig health = c.health();
        if (controllerReachable != null) c.controllerLink().bind(controllerReachable);
        Inhibitors inhibitors;
        try {
            inhibitors = act.inhibitors(gpio != null ? gpio : gpio(c, act), c.stateDir());
        } catch (GpioException e) {
            throw new AgentConfig.ConfigException(c.file() + ": inhibitor pins: " + e.getMessage());
        }
        Duration budget = c.rollbackBudget();
        return new UpdateEngine.Parts(bootControl(c), new FileSlotStorage(c.slots().a(), c.slots().b()), keyring, c.device().variant(),
                c.clockTrusted(), c.strictSignatures(), c.slots().systemRelease(), new RetryPolicy(c.download().retryBase(), c.download().retryMax(), c.download().retryMaxFailures()),
                http, events, clock, sleeper, hook, reboot != null ? reboot : defaultReboot(c), act.schedule(), inhibitors,
                health, c.boot().tries(), budget);
    }
}
