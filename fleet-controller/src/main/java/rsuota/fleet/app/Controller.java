package rsuota.fleet.app;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import rsuota.fleet.domain.Durations;
import rsuota.fleet.store.KpiSampleRepository;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.bundle.Pem;
import rsuota.fleet.api.ApiRoutes;
import rsuota.fleet.api.ApiServer;
import rsuota.fleet.api.HttpCounters;
import rsuota.fleet.api.Metrics;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.audit.AuditTrail;
import rsuota.fleet.auth.Tokens;
import rsuota.fleet.api.FleetMetrics;
import rsuota.fleet.api.Reply;
import rsuota.fleet.api.RolloutRoutes;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.diag.Diagnostics;
import rsuota.fleet.link.ControllerLink;
import rsuota.fleet.link.DesiredStatePublisher;
import rsuota.fleet.link.HiveMqEmbeddedBroker;
import rsuota.fleet.pki.DeviceCa;
import rsuota.wire.TlsMaterial;
import rsuota.fleet.link.MqttBroker;
import rsuota.fleet.link.TelemetryIngest;
import rsuota.fleet.link.Transport;
import rsuota.fleet.policy.LinkTemplates;
import rsuota.fleet.policy.TelemetryWindow;
import rsuota.fleet.rollout.AlertSink;
import rsuota.fleet.rollout.RolloutEngine;
import rsuota.fleet.rollout.RolloutModule;
import rsuota.fleet.rollout.Rollouts;
import rsuota.fleet.rollout.WebhookAlerts;
import rsuota.fleet.device.DeviceRegistry;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.incident.Incidents;
import rsuota.fleet.release.ReleaseCatalog;
import rsuota.fleet.store.Database;

/**
 * The composition root: store, services and HTTP server of one controller. Open it, add routes
 * of later parts to {@link #routes()} if needed, then {@link #serve}.
 */
public final class Controller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Controller.class);

    /**
     * @param dir          data directory (must be initialised)
     * @param keyring      trust anchors file; null means DIR/keyring.pem
     * @param host         address to bind
     * @param port         port to bind (0: any free port)
     * @param broker       MQTT: none, embedded (HiveMQ CE in this JVM) or an external broker
     * @param publicUrl    the controller's URL as devices and humans reach it (null: http://host:port)
     * @param tick         how often the rollout engine steps (null: never by itself; tests call tick)
     * @param links        URL templates for pause events
     * @param alertWebhook where alerts are POSTed (null: stored and shown only)
     * @param sharedGroup  MQTT 5 shared-subscription group, for several controllers on one broker (null: none)
     */
    public record Config(DataDir dir, Path keyring, String host, int port, BrokerMode broker, String publicUrl, Duration tick,
                         LinkTemplates links, URI alertWebhook, String sharedGroup) {
        public Config(DataDir dir, Path keyring, String host, int port) {
            this(dir, keyring, host, port, BrokerMode.none(), null, null, LinkTemplates.defaults(), null, null);
        }
    }

    /** How the controller reaches devices. */
    public sealed interface BrokerMode permits BrokerMode.None, BrokerMode.Embedded, BrokerMode.External {
        /** No MQTT (tests that drive ingest and publishing by hand, an API-only instance). */
        record None() implements BrokerMode {}

        /**
         * HiveMQ CE in this JVM: a plain listener on loopback {@code host:port} (null host: none),
         * and with {@code ca} a TLS listener on {@code tlsHost:tlsPort} that requires device
         * certificates; the controller then connects over TLS with its own identity.
         */
        record Embedded(String host, int port, DeviceCa ca, String tlsHost, int tlsPort) implements BrokerMode {
            public Embedded(String host, int port) {
                this(host, port, null, null, 0);
            }
        }

        /** An external broker, e.g. tcp://127.0.0.1:1883, or ssl://... with the controller's TLS identity. */
        record External(String uri, TlsMaterial tls) implements BrokerMode {
            public External(String uri) {
                this(uri, null);
            }
        }

        static BrokerMode none() {
            return new None();
        }
    }

    private final Clock clock;
    private final Database db;
    private final AuditLog auditLog;
    private final Tokens tokens;
    private final DeviceRegistry devices;
    private final ReleaseCatalog releases;
    private final Cohorts cohorts;
    private final Incidents incidents;
    private final AuditTrail auditTrail;
    private final HttpCounters counters = new HttpCounters();
    private final ApiRoutes routes;
    private final Config config;
    private final TelemetryWindow window = new TelemetryWindow();
    private final TelemetryIngest ingest;
    private final RolloutModule rolloutModule;
    private final Diagnostics diagnostics;
    private final DesiredStatePublisher publisher;
    private final SwitchableTransport transport = new SwitchableTransport();
    private final rsuota.fleet.lead.Leadership leadership;
    /** A dead leader's lease expires after this; another replica takes over within it plus one renewal (ttl / 5). */
    public static final Duration LEASE_TTL = Duration.ofSeconds(10);
    private ApiServer server;
    private MqttBroker broker;
    private ControllerLink link;
    private ScheduledExecutorService ticker;
    private final WebhookAlerts webhook;
    /** How long KPI samples are kept (the longest observation window a rule can judge). */
    private volatile Duration kpiRetention = DEFAULT_KPI_RETENTION;
    private final rsuota.fleet.auth.FailedAuthLimiter authLimiter;
    private volatile Instant lastCompaction = Instant.EPOCH;
    public static final Duration DEFAULT_KPI_RETENTION = Duration.ofDays(30);
    /** KPI samples are downsampled and expired this often (on the engine's ticker). */
    static final Duration COMPACTION_INTERVAL = Duration.ofMinutes(1);

    private final rsuota.fleet.audit.AuditCheckpoints checkpoints;

    private Controller(Config config, Clock clock, Database db, List<X509Certificate> keyring) throws IOException {
        this.config = config;
        this.clock = clock;
        this.db = db;
        this.auditLog = new AuditLog(clock);
        this.tokens = new Tokens(db, auditLog);
        this.authLimiter = new rsuota.fleet.auth.FailedAuthLimiter(clock);
        this.devices = new DeviceRegistry(db, auditLog, clock);
        this.releases = new ReleaseCatalog(db, auditLog, keyring, config.dir().artifacts(), clock);
        this.cohorts = new Cohorts(db, auditLog, clock);
        this.incidents = new Incidents(db, auditLog, clock);
        this.auditTrail = new AuditTrail(db);
        this.checkpoints = new rsuota.fleet.audit.AuditCheckpoints(db, clock, config.dir().root());
        this.ingest = new TelemetryIngest(db, clock, window);
        this.leadership = db instanceof rsuota.fleet.store.PostgresDatabase
                ? rsuota.fleet.lead.Leadership.lease(db, replicaId(config), Clock.systemUTC(), LEASE_TTL)
                : rsuota.fleet.lead.Leadership.sole();
        // Only the leader dispatches: a follower's publisher sees no transport.
        this.publisher = new DesiredStatePublisher(db, clock, new LeaderOnly(transport, leadership));
        this.webhook = config.alertWebhook() == null ? null
                : new WebhookAlerts(config.alertWebhook(), db, clock, auditLog, WebhookAlerts.Retry.DEFAULT);
        AlertSink alerts = webhook == null ? AlertSink.NONE : webhook;
        this.rolloutModule = new RolloutModule(db, new rsuota.fleet.lead.FencedDatabase(db, leadership), auditLog, clock, window, config.links(), this::publicUrl, alerts, publisher::kick);
        this.diagnostics = new Diagnostics(db, auditLog, clock, config.dir().root().resolve("diagnostics"), this::publicUrl,
                Diagnostics.DEFAULT_TTL, publisher::kick);
        Metrics metrics = new Metrics(db, counters);
        metrics.add(new FleetMetrics(rolloutModule.rollouts(), ingest, publisher, () -> link));
        metrics.add(out -> leadershipMetrics(out));
        this.routes = new ApiRoutes(new ApiRoutes.Services(tokens, devices, releases, cohorts, incidents, auditTrail, metrics, checkpoints));
        RolloutRoutes.add(routes, rolloutModule.rollouts(), diagnostics);
        // For a load balancer or systemd: no token, nothing but liveness and readiness.
        routes.add("GET", "/healthz", null, false, 0, c -> Reply.ok(java.util.Map.of("status", "alive")));
        routes.add("GET", "/readyz", null, false, 0, c -> readiness());
    }

    /**
     * Ready when the store answers and, with a broker configured, the link is connected. This controller
     * is the only one on its store, so its role is leader (docs/architecture.md; replicas are not built).
     */
    private Reply readiness() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        boolean ready = true;
        try {
            db.read(tx -> tx.audit().last()); // one indexed row: a load balancer asks every few seconds
            m.put("store", "ok");
        } catch (FleetException | RuntimeException e) {
            m.put("store", "unreachable: " + e.getMessage());
            ready = false;
        }
        if (config.broker() instanceof BrokerMode.None) {
            m.put("broker", "none");
        } else {
            ControllerLink l = link;
            boolean up = l != null && l.connected();
            m.put("broker", up ? "connected" : "disconnected");
            ready &= up;
        }
        m.put("engine", config.tick() == null ? "off" : ticker != null && !ticker.isShutdown() ? "ticking" : "stopped");
        m.put("role", leadership.role());
        if (leadership.token() > 0) m.put("fencingToken", leadership.token());
        Duration age = leadership.leaseAge();
        if (age != null) m.put("leaseAgeSeconds", age.toMillis() / 1000.0);
        m.put("ready", ready);
        return new Reply.Json(ready ? 200 : 503, m);
    }

    /** Opens the store (applying pending migrations) and loads the keyring; does not listen yet. */
    public static Controller open(Config config, Clock clock) throws StartupException {
        DataDir dir = config.dir();
        if (dir.storeSpec() instanceof rsuota.fleet.store.StoreSpec.Sqlite && !dir.initialised()) {
            throw new StartupException(dir.root() + " holds no controller store: run 'fleet-controller init --data-dir " + dir.root() + "' first");
        }
        Path keyringFile = config.keyring() != null ? config.keyring() : dir.keyring();
        List<X509Certificate> keyring = loadKeyring(keyringFile, config.keyring() == null);
        try {
            Files.createDirectories(dir.artifacts());
        } catch (IOException e) {
            throw new StartupException("cannot create the artifact directory " + dir.artifacts() + ": " + e, e);
        }
        Database db = dir.openStore(clock);
        Controller c;
        try {
            c = new Controller(config, clock, db, keyring);
        } catch (IOException e) {
            db.close();
            throw new StartupException(e.getMessage(), e);
        }
        if (c.leadership instanceof rsuota.fleet.lead.Leadership.Lease lease) lease.renewOnce(); // a lone replica leads at once
        c.checkNewestCheckpoint();
        return c;
    }

    /**
     * At start, the newest checkpoint this controller wrote is held against the chain: a deleted tail
     * or a rewritten chain raises an {@code audit_mismatch} alert and an error in the log.
     */
    private void checkNewestCheckpoint() {
        var newest = checkpoints.newest();
        if (newest == null) return;
        try {
            var r = checkpoints.check(newest);
            if (r.ok()) return;
            log.error("audit log does not hold its newest checkpoint: {}", r.problem());
            Instant now = rsuota.fleet.domain.Millis.now(clock);
            db.write(tx -> new rsuota.fleet.rollout.AlertRepository(tx).insert(now, rsuota.fleet.rollout.Alert.AUDIT_MISMATCH, null, null,
                    java.util.Map.of("problem", r.problem(), "checkpoint", newest.json())));
        } catch (FleetException e) {
            log.error("cannot check the newest audit checkpoint: {}", e.getMessage());
        }
    }

    /** Signed checkpoints of the audit chain's head (docs/security.md). */
    public rsuota.fleet.audit.AuditCheckpoints checkpoints() {
        return checkpoints;
    }

    /** Starts listening: HTTP, then the broker link and the publisher, then the engine's ticker. */
    public Controller serve() throws StartupException {
        ApiServer s = new ApiServer(config.host(), config.port(), routes.routes(), tokens, counters, config.dir().artifacts(),
                authLimiter);
        try {
            s.start();
        } catch (FleetException e) {
            throw new StartupException(e.getMessage(), e);
        }
        server = s;
        log.info("controller listening on {} (store {}, artifacts {})", s.uri(), config.dir().describeStore(), config.dir().artifacts());
        try {
            int seeded = ingest.hydrate();
            if (seeded > 0) log.info("telemetry windows of {} devices rebuilt from their stored reports", seeded);
        } catch (FleetException e) {
            throw new StartupException("cannot read device snapshots: " + e.getMessage(), e);
        }
        String mqtt = null;
        TlsMaterial tls = null;
        if (config.broker() instanceof BrokerMode.Embedded e) {
            HiveMqEmbeddedBroker hive;
            try {
                hive = HiveMqEmbeddedBroker.start(config.dir().root().resolve("broker"),
                        new HiveMqEmbeddedBroker.Listeners(e.host(), e.port(), e.ca(), e.tlsHost(), e.tlsPort()));
                broker = hive;
            } catch (IOException ex) {
                throw new StartupException(ex.getMessage(), ex);
            }
            log.info("embedded MQTT broker listening on {}", hive.tlsUri() == null ? hive.uri()
                    : hive.tlsUri() + (e.host() == null ? "" : " and " + hive.uri()) + " (device certificates from " + e.ca().dir() + ")");
            if (e.ca() != null) {
                mqtt = hive.tlsUri();
                DeviceCa.Identity me = e.ca().controller();
                tls = new TlsMaterial(me.caCert(), me.cert(), me.key());
            } else {
                mqtt = broker.uri();
            }
        } else if (config.broker() instanceof BrokerMode.External x) {
            mqtt = x.uri();
            tls = x.tls();
        }
        if (mqtt != null) {
            String clientId = "rsu-fleet-controller-" + Integer.toHexString(config.dir().root().toAbsolutePath().toString().hashCode());
            javax.net.ssl.SSLContext ssl = null;
            if (tls != null) {
                try {
                    ssl = tls.sslContext();
                    // With a certificate the broker takes the CN as the identity and wants the client id to match it.
                    clientId = TlsMaterial.commonName(rsuota.bundle.Pem.certificate(tls.cert()));
                } catch (TlsMaterial.TlsFileException | rsuota.bundle.Pem.PemException | IOException ex) {
                    throw new StartupException("controller's MQTT TLS identity: " + ex.getMessage(), ex);
                }
                if (clientId == null) {
                    throw new StartupException("controller's MQTT TLS identity: " + tls.cert() + " has no CN, which brokers take as the client id;"
                            + " issue one with 'fleet-controller device-ca issue NAME --controller'");
                }
            }
            link = new ControllerLink(new ControllerLink.Config(mqtt, clientId, config.sharedGroup(), ssl), ingest);
            // Only the leader re-publishes after a (re)connect; a follower that becomes leader later sends what is pending.
            link.onConnect(() -> {
                if (leadership.isLeader()) publisher.republishAll();
            });
            transport.use(link);
            link.start();
        }
        leadership.start(publisher::kick); // a new leader sends what is pending at once (what the old one sent stays sent)
        publisher.start();
        if (webhook != null) {
            try {
                // Alerts whose delivery had not ended when the controller stopped are sent again.
                webhook.resume();
            } catch (FleetException e) {
                throw new StartupException("cannot read undelivered alerts: " + e.getMessage(), e);
            }
        }
        if (config.tick() != null) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "rollout-ticker");
                t.setDaemon(true);
                return t;
            });
            // The ticker only calls tick(now): everything else about time lives in the engine and the store.
            ticker.schedule(this::tickAndReschedule, config.tick().toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /**
     * How long KPI samples are kept: at least a day, at most 400 days; it must cover the longest
     * observation window a phase uses, or the gate judges less than the whole window.
     */
    public Controller kpiRetention(Duration retention) throws FleetException {
        if (retention == null || retention.compareTo(Duration.ofDays(1)) < 0 || retention.compareTo(Duration.ofDays(400)) > 0) {
            throw FleetException.invalid("kpiRetention", "must be between 1d and 400d, got " + (retention == null ? "nothing" : Durations.format(retention)));
        }
        this.kpiRetention = retention;
        return this;
    }

    /** Downsamples and expires KPI samples once per {@link #COMPACTION_INTERVAL}; returns what it did, or null when not due. */
    public KpiSampleRepository.Compaction compactIfDue(Instant now) throws FleetException {
        if (now.isBefore(lastCompaction.plus(COMPACTION_INTERVAL))) return null;
        lastCompaction = now;
        Duration retention = kpiRetention;
        return db.write(tx -> tx.kpiSamples().compact(now, retention));
    }

    /**
     * Ticks start one period apart (start to start, not end to start), so a rule is judged at most one period after its
     * sustained window ends even when a tick takes a while (a 100,000-unit wave); {@link #nextTickDelayMs}.
     */
    private void tickAndReschedule() {
        long started = System.nanoTime();
        try {
            tickQuietly();
        } finally {
            long took = (System.nanoTime() - started) / 1_000_000;
            try {
                ticker.schedule(this::tickAndReschedule, nextTickDelayMs(config.tick().toMillis(), took), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the controller is closing
            }
        }
    }

    /**
     * The wait before the next tick: what is left of the period, but at least a quarter of it, so that a tick that ran
     * long (it holds the store-wide write order) is followed by room for telemetry ingest and operators.
     */
    static long nextTickDelayMs(long periodMs, long tookMs) {
        return Math.max(periodMs / 4, periodMs - tookMs);
    }

    private void tickQuietly() {
        if (!leadership.isLeader()) return; // followers serve the API and ingest; the leader runs the engine
        try {
            compactIfDue(clock.instant());
        } catch (FleetException | RuntimeException e) {
            log.error("KPI sample compaction failed: {}", e.getMessage(), e);
        }
        try {
            checkpoints.takeIfDue();
        } catch (FleetException | RuntimeException e) {
            log.error("audit checkpoint failed: {}", e.getMessage(), e);
        }
        try {
            rolloutModule.engine().tick(clock.instant());
        } catch (FleetException | RuntimeException e) {
            // A failed tick is retried by the next one; everything it decided was committed or not at all.
            log.error("rollout engine tick failed: {}", e.getMessage(), e);
        }
    }

    /** What this controller was opened with. */
    public Config config() {
        return config;
    }

    /** The controller's URL as devices and humans reach it. */
    public String publicUrl() {
        if (config.publicUrl() != null) return config.publicUrl();
        return server == null ? "http://" + config.host() + ":" + config.port() : server.uri().toString();
    }

    /** Routes outgoing messages through {@code t} (tests without a broker record them). */
    public void transport(Transport t) {
        transport.use(t);
    }

    public TelemetryWindow telemetryWindow() {
        return window;
    }

    public TelemetryIngest ingest() {
        return ingest;
    }

    public RolloutEngine engine() {
        return rolloutModule.engine();
    }

    public Rollouts rollouts() {
        return rolloutModule.rollouts();
    }

    public Diagnostics diagnostics() {
        return diagnostics;
    }

    public DesiredStatePublisher publisher() {
        return publisher;
    }

    /** The MQTT link (null without a broker). */
    public ControllerLink link() {
        return link;
    }

    /** The broker URI the controller uses (null without one). */
    public String brokerUri() {
        if (broker != null) return broker.uri();
        return config.broker() instanceof BrokerMode.External x ? x.uri() : null;
    }

    public URI uri() {
        return server.uri();
    }

    public ApiServer server() {
        return server;
    }

    public Clock clock() {
        return clock;
    }

    public Database database() {
        return db;
    }

    public AuditLog auditLog() {
        return auditLog;
    }

    /** Failed authentications per source address and minute before the address is refused (429). */
    public rsuota.fleet.auth.FailedAuthLimiter authLimiter() {
        return authLimiter;
    }

    public Tokens tokens() {
        return tokens;
    }

    public DeviceRegistry devices() {
        return devices;
    }

    public ReleaseCatalog releases() {
        return releases;
    }

    public Cohorts cohorts() {
        return cohorts;
    }

    public Incidents incidents() {
        return incidents;
    }

    public AuditTrail auditTrail() {
        return auditTrail;
    }

    public ApiRoutes routes() {
        return routes;
    }

    @Override
    public void close() {
        try {
            if (ticker != null) {
                ticker.shutdownNow();
                try {
                    ticker.awaitTermination(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            publisher.close();
            leadership.close(); // gives the lease up: another replica takes over at once
            if (link != null) link.close();
            if (broker != null) broker.close();
            if (server != null) server.close();
        } finally {
            db.close();
        }
    }

    /** Leader or follower (and the lease) of this controller; the sole controller on SQLite always leads. */
    public rsuota.fleet.lead.Leadership leadership() {
        return leadership;
    }

    private static String replicaId(Config config) {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "unknown-host";
        }
        return host + "/" + ProcessHandle.current().pid() + "/" + Integer.toHexString(new java.security.SecureRandom().nextInt());
    }

    private void leadershipMetrics(StringBuilder out) {
        out.append("# HELP rsuota_controller_leader 1 when this replica runs the rollout engine and dispatch (holds the leader lease).\n");
        out.append("# TYPE rsuota_controller_leader gauge\n");
        out.append("rsuota_controller_leader ").append(leadership.isLeader() ? 1 : 0).append('\n');
        Duration age = leadership.leaseAge();
        if (age != null) {
            out.append("# HELP rsuota_controller_lease_age_seconds Time since the leader last renewed the lease, as this replica read it.\n");
            out.append("# TYPE rsuota_controller_lease_age_seconds gauge\n");
            out.append("rsuota_controller_lease_age_seconds ").append(age.toMillis() / 1000.0).append('\n');
            out.append("# HELP rsuota_controller_fencing_token The fencing token this replica leads with (0: follower).\n");
            out.append("# TYPE rsuota_controller_fencing_token gauge\n");
            out.append("rsuota_controller_fencing_token ").append(leadership.token()).append('\n');
        }
    }

    /**
     * The publisher's transport while this replica leads; a follower's publisher sees no connection and sends nothing.
     * Each publish needs the lease to run for a fifth of its TTL more: a leader that stalled (GC pause, partition)
     * stops sending before another replica can take over, so its late publish cannot overwrite a newer retained order
     * (devices also refuse a lower fencing token than one they accepted).
     */
    private record LeaderOnly(Transport transport, rsuota.fleet.lead.Leadership leadership) implements Transport {
        static final Duration MARGIN = LEASE_TTL.dividedBy(5);

        public java.util.concurrent.CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained) {
            if (!leadership.leadsFor(MARGIN)) {
                return java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException(
                        "not sent: this replica's lease runs out within " + MARGIN.toSeconds() + " s (or it no longer leads)"));
            }
            return transport.publish(topic, payload, retained);
        }

        public boolean connected() {
            return leadership.isLeader() && transport.connected();
        }
    }

    /** The publisher's transport, switchable after construction (the link exists only once serving). */
    private static final class SwitchableTransport implements Transport {
        private volatile Transport delegate;

        void use(Transport t) {
            delegate = t;
        }

        @Override
        public java.util.concurrent.CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained) {
            Transport t = delegate;
            return t == null ? java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException("no MQTT broker configured"))
                    : t.publish(topic, payload, retained);
        }

        @Override
        public boolean connected() {
            Transport t = delegate;
            return t != null && t.connected();
        }
    }

    private static List<X509Certificate> loadKeyring(Path file, boolean defaulted) throws StartupException {
        if (!Files.exists(file)) {
            throw new StartupException("no keyring at " + file + ": " + (defaulted
                    ? "put the fleet's root certificate(s) there (PEM) or pass --keyring FILE"
                    : "check the --keyring path") + "; releases are verified against it");
        }
        try {
            return Pem.certificates(file);
        } catch (Pem.PemException e) {
            throw new StartupException("keyring " + e.getMessage(), e);
        } catch (IOException e) {
            throw new StartupException("cannot read keyring " + file + ": " + e, e);
        }
    }
}
