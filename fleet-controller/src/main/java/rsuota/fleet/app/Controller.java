package rsuota.fleet.app;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
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
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.device.DeviceRegistry;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.incident.Incidents;
import rsuota.fleet.release.ReleaseCatalog;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.SqliteDatabase;

/**
 * The composition root: store, services and HTTP server of one controller. Open it, add routes
 * of later parts to {@link #routes()} if needed, then {@link #serve}.
 */
public final class Controller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Controller.class);

    /**
     * @param dir     data directory (must be initialised)
     * @param keyring trust anchors file; null means DIR/keyring.pem
     * @param host    address to bind
     * @param port    port to bind (0: any free port)
     */
    public record Config(DataDir dir, Path keyring, String host, int port) {}

    private final Clock clock;
    private final SqliteDatabase db;
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
    private ApiServer server;

    private Controller(Config config, Clock clock, SqliteDatabase db, List<X509Certificate> keyring) {
        this.config = config;
        this.clock = clock;
        this.db = db;
        this.auditLog = new AuditLog(clock);
        this.tokens = new Tokens(db, auditLog);
        this.devices = new DeviceRegistry(db, auditLog, clock);
        this.releases = new ReleaseCatalog(db, auditLog, keyring, config.dir().artifacts(), clock);
        this.cohorts = new Cohorts(db, auditLog, clock);
        this.incidents = new Incidents(db, auditLog, clock);
        this.auditTrail = new AuditTrail(db);
        this.routes = new ApiRoutes(new ApiRoutes.Services(tokens, devices, releases, cohorts, incidents, auditTrail,
                new Metrics(db, counters)));
    }

    /** Opens the store (applying pending migrations) and loads the keyring; does not listen yet. */
    public static Controller open(Config config, Clock clock) throws StartupException {
        DataDir dir = config.dir();
        if (!dir.initialised()) {
            throw new StartupException(dir.root() + " holds no controller store: run 'fleet-controller init --data-dir " + dir.root() + "' first");
        }
        Path keyringFile = config.keyring() != null ? config.keyring() : dir.keyring();
        List<X509Certificate> keyring = loadKeyring(keyringFile, config.keyring() == null);
        try {
            Files.createDirectories(dir.artifacts());
        } catch (IOException e) {
            throw new StartupException("cannot create the artifact directory " + dir.artifacts() + ": " + e, e);
        }
        SqliteDatabase db;
        try {
            db = SqliteDatabase.open(dir.store(), clock);
        } catch (FleetException e) {
            throw new StartupException(e.getMessage(), e);
        }
        return new Controller(config, clock, db, keyring);
    }

    /** Starts listening. */
    public Controller serve() throws StartupException {
        ApiServer s = new ApiServer(config.host(), config.port(), routes.routes(), tokens, counters, config.dir().artifacts());
        try {
            s.start();
        } catch (FleetException e) {
            throw new StartupException(e.getMessage(), e);
        }
        server = s;
        log.info("controller listening on {} (store {}, artifacts {})", s.uri(), config.dir().store(), config.dir().artifacts());
        return this;
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
            if (server != null) server.close();
        } finally {
            db.close();
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
