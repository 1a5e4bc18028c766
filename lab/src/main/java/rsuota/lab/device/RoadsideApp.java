package rsuota.lab.device;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.SplittableRandom;
import rsuota.lab.scenario.FaultProfile;
import rsuota.wire.MqttState;

/**
 * The roadside application of one simulated unit: it runs from a boot to the next power-down and
 * rewrites its KPI file ({@code app/kpis.json}, read by the agent's {@code JsonFileKpiSource} for
 * the health commit and the state reports) every tick. What it reports depends on the release that
 * booted: the {@link FaultProfile} in that slot's image header (healthy, broken from the start, or
 * degrading some time after boot), and on the device's variant.
 */
public final class RoadsideApp {
    /** Where the agent's {@code health.kpi.source=json:...} points, relative to the device directory. */
    public static final String KPI_FILE = "app/kpis.json";

    /** Healthy service, comfortably inside the Go/No-Go KPIs (availability >= 99.5 %, lag median < 2 s, p95 < 10 s, dropped < 0.1 %). */
    static final MqttState.Kpis NOMINAL = new MqttState.Kpis(0.9993, 140, 1100, 0.0002);

    private final Path file;
    private final String variant;
    private final SplittableRandom random;
    private volatile FaultProfile profile = FaultProfile.NOMINAL;
    private volatile Instant bootedAt;
    private volatile boolean running;
    private volatile MqttState.Kpis last;

    RoadsideApp(Path deviceDir, String deviceId, String variant) {
        this.file = deviceDir.resolve(KPI_FILE);
        this.variant = variant;
        // Seeded per device: a rerun of a scenario shows the same small jitter.
        this.random = new SplittableRandom(deviceId.hashCode());
    }

    /** The box booted a slot whose release carries {@code p}: the application starts now. */
    void start(FaultProfile p, Instant now) throws IOException {
        profile = p;
        bootedAt = now;
        running = true;
        tick(now);
    }

    /** Power gone or reboot: the application stops writing (the file keeps its last values, as on a real disk). */
    void stop() {
        running = false;
    }

    public boolean running() {
        return running;
    }

    public FaultProfile profile() {
        return profile;
    }

    /** The KPIs last written, or null before the first boot. */
    public MqttState.Kpis last() {
        return last;
    }

    /** Writes the current KPIs if the application runs. Called by the fleet's scheduler. */
    public void tick(Instant now) throws IOException {
        if (!running) return;
        MqttState.Kpis k = kpis(now);
        last = k;
        String json = String.format(Locale.ROOT,
                "{\"kpis\":{\"availability\":%.6f,\"lagMedianMs\":%.1f,\"lagP95Ms\":%.1f,\"droppedRatio\":%.6f},\"writtenAt\":\"%s\"}%n",
                k.availability(), k.lagMedianMs(), k.lagP95Ms(), k.droppedRatio(), now);
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling("kpis.json.tmp");
        Files.writeString(tmp, json, StandardCharsets.UTF_8);
        // The agent must never read half a file: rename is atomic on one filesystem.
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** KPIs forced from outside for a while (a lab "degrade" step); NaN fields keep the release's own. */
    private volatile MqttState.Kpis override;
    private volatile Instant overrideUntil = Instant.MIN;

    /** For {@code duration} from now the application reports these KPIs (NaN: its own), whatever release runs. */
    public void override(MqttState.Kpis k, java.time.Duration duration) {
        override = k;
        overrideUntil = Instant.now().plus(duration);
    }

    MqttState.Kpis kpis(Instant now) {
        MqttState.Kpis own = ownKpis(now);
        MqttState.Kpis o = override;
        if (o == null || !now.isBefore(overrideUntil)) return own;
        double noise = 1 + random.nextDouble(-0.002, 0.002);
        return new MqttState.Kpis(Double.isNaN(o.availability()) ? own.availability() : Math.min(1.0, o.availability() * noise),
                Double.isNaN(o.lagMedianMs()) ? own.lagMedianMs() : o.lagMedianMs() * noise,
                Double.isNaN(o.lagP95Ms()) ? own.lagP95Ms() : o.lagP95Ms() * noise,
                Double.isNaN(o.droppedRatio()) ? own.droppedRatio() : o.droppedRatio() * noise);
    }

    private MqttState.Kpis ownKpis(Instant now) {
        FaultProfile p = profile;
        // Small jitter so the charts look like telemetry; never enough to cross a threshold by itself.
        double a = NOMINAL.availability() + random.nextDouble(-0.0002, 0.0005);
        double med = NOMINAL.lagMedianMs() + random.nextDouble(-30, 30);
        double p95 = NOMINAL.lagP95Ms() + random.nextDouble(-200, 200);
        double drop = NOMINAL.droppedRatio() + random.nextDouble(-0.0001, 0.0001);
        if (!p.appliesTo(variant)) return new MqttState.Kpis(a, med, p95, drop);
        if (p.healthFails()) return new MqttState.Kpis(0.0, med, p95, drop);
        FaultProfile.Degrade d = p.degrade();
        if (d == null) return new MqttState.Kpis(a, med, p95, drop);
        Duration up = Duration.between(bootedAt, now);
        if (up.compareTo(d.after()) < 0) return new MqttState.Kpis(a, med, p95, drop);
        if (d.recoverAfter() != null && up.compareTo(d.after().plus(d.recoverAfter())) >= 0) return new MqttState.Kpis(a, med, p95, drop);
        double share = d.ramp().isZero() ? 1.0 : Math.min(1.0, (double) up.minus(d.after()).toMillis() / d.ramp().toMillis());
        double noise = 1 + random.nextDouble(-0.02, 0.02);
        return new MqttState.Kpis(
                d.availability() == null ? a : Math.min(1.0, mix(a, d.availability() * (2 - noise), share)),
                d.lagMedianMs() == null ? med : mix(med, d.lagMedianMs() * noise, share),
                d.lagP95Ms() == null ? p95 : mix(p95, d.lagP95Ms() * noise, share),
                d.droppedRatio() == null ? drop : mix(drop, d.droppedRatio() * noise, share));
    }

    private static double mix(double from, double to, double share) {
        return Math.max(0, from + (to - from) * share);
    }
}
