package rsuota.fleet.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import rsuota.fleet.app.Controller;
import rsuota.fleet.app.DataDir;
import rsuota.fleet.app.StartupException;
import rsuota.fleet.pki.DeviceCa;

/**
 * {@code fleet-controller init --data-dir DIR} and {@code fleet-controller run --data-dir DIR [--port 8080]}.
 */
@Command(name = "fleet-controller", mixinStandardHelpOptions = true, version = "fleet-controller 0.1.0",
        description = "The RSU OTA fleet controller.",
        subcommands = {FleetControllerMain.Init.class, FleetControllerMain.AdminToken.class, FleetControllerMain.Run.class,
                DeviceCaCommands.Group.class, DeviceCaCommands.BrokerConfig.class, FleetControllerMain.MigrateStore.class})
public final class FleetControllerMain {

    public static void main(String[] args) {
        CliRunner.main(new FleetControllerMain(), ExitCodes.FLEET_CONTROLLER, "fleet-controller", StartupException.class, e -> ExitCodes.STARTUP, args);
    }

    /** Runs one command line and returns its exit code. {@code run} returns only when the server stops. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        return CliRunner.execute(new FleetControllerMain(), ExitCodes.FLEET_CONTROLLER, "fleet-controller", StartupException.class, e -> ExitCodes.STARTUP, args, out, err);
    }

    /** {@code --db URL} and {@code --db-password-file FILE}: which store (SQLite in the data directory by default). */
    static final class StoreOptions {
        @Option(names = "--db", paramLabel = "URL", description = "a PostgreSQL store, postgresql://USER@HOST:PORT/DATABASE"
                + " (default: the SQLite file DIR/fleet.db); the password comes from --db-password-file or PGPASSWORD, never the URL")
        String db;

        @Option(names = "--db-password-file", paramLabel = "FILE", description = "file whose first line is the PostgreSQL password")
        Path passwordFile;

        DataDir dataDir(Path root) throws StartupException {
            try {
                return new DataDir(root, rsuota.fleet.store.StoreSpec.fromOptions(db, passwordFile, root.resolve("fleet.db"), System.getenv()));
            } catch (IllegalArgumentException e) {
                throw new StartupException(e.getMessage());
            }
        }
    }

    @Command(name = "init", mixinStandardHelpOptions = true, description = "Create a controller store in an empty data directory and print its first admin token (once).")
    static final class Init implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--data-dir", paramLabel = "DIR", required = true, description = "directory for the store, artifacts and keyring")
        Path dataDir;

        @Option(names = "--keyring", paramLabel = "PEM", description = "PEM root certificate(s) to copy to DIR/keyring.pem")
        Path keyring;

        @picocli.CommandLine.Mixin
        StoreOptions store = new StoreOptions();

        @Override
        public Integer call() throws StartupException {
            DataDir dir = store.dataDir(dataDir);
            String secret = dir.init(keyring, Clock.systemUTC());
            // The token alone on stdout, so that TOKEN=$(fleet-controller init ...) works; the note goes to stderr.
            spec.commandLine().getOut().println(secret);
            spec.commandLine().getErr().println("# initialised " + dataDir.toAbsolutePath() + " (store " + dir.describeStore() + "); the admin token above ('"
                    + DataDir.INITIAL_ADMIN_LABEL + "') is shown only now");
            return ExitCodes.OK;
        }
    }

    @Command(name = "admin-token", mixinStandardHelpOptions = true, description = "Break-glass: issue a new admin token from the host (needs write access to the data"
            + " directory), when every admin token expired or was revoked; audited as local:USER.")
    static final class AdminToken implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--data-dir", paramLabel = "DIR", required = true, description = "an initialised data directory")
        Path dataDir;

        @Option(names = "--label", paramLabel = "LABEL", required = true, description = "names the new token's holder in the audit log (unique)")
        String label;

        @Option(names = "--reason", paramLabel = "TEXT", required = true, description = "why, for the audit log")
        String reason;

        @picocli.CommandLine.Mixin
        StoreOptions store = new StoreOptions();

        @Override
        public Integer call() throws StartupException {
            String secret = store.dataDir(dataDir).issueAdmin(label, reason, System.getProperty("user.name", "unknown"), Clock.systemUTC());
            spec.commandLine().getOut().println(secret);
            spec.commandLine().getErr().println("# admin token '" + label + "' issued in " + dataDir.toAbsolutePath() + "; shown only now");
            return ExitCodes.OK;
        }
    }

    @Command(name = "migrate-store", mixinStandardHelpOptions = true, description = "Copy a SQLite store (a controller's data directory) into an empty PostgreSQL database,"
            + " audit chain included, and verify the chain on the copy. Stop the controller first: writes made during the copy are not in it.")
    static final class MigrateStore implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--from", required = true, paramLabel = "sqlite:DIR", description = "the data directory whose fleet.db is copied")
        String from;

        @Option(names = "--to", required = true, paramLabel = "URL", description = "postgresql://USER@HOST:PORT/DATABASE, an empty database")
        String to;

        @Option(names = "--db-password-file", paramLabel = "FILE", description = "file whose first line is the PostgreSQL password (else PGPASSWORD)")
        Path passwordFile;

        @Override
        public Integer call() throws StartupException {
            if (!from.startsWith("sqlite:")) {
                throw new StartupException("--from '" + from + "': give sqlite:DIR, the data directory of the controller whose store is copied");
            }
            DataDir source = new DataDir(Path.of(from.substring("sqlite:".length())));
            if (!source.initialised()) throw new StartupException("--from " + from + ": " + source.store() + " does not exist");
            rsuota.fleet.store.StoreSpec target;
            try {
                target = rsuota.fleet.store.StoreSpec.fromOptions(to, passwordFile, null, System.getenv());
            } catch (IllegalArgumentException e) {
                throw new StartupException(e.getMessage().replace("--db", "--to"));
            }
            if (!(target instanceof rsuota.fleet.store.StoreSpec.Postgres)) throw new StartupException("--to must be a postgresql:// URL");
            Clock clock = Clock.systemUTC();
            try (rsuota.fleet.store.Database src = source.openStore(clock);
                 rsuota.fleet.store.Database dst = target.open(clock)) {
                java.util.Map<rsuota.fleet.store.Table, Long> copied = rsuota.fleet.store.StoreCopy.copy(src, dst);
                PrintWriter out = spec.commandLine().getOut();
                long total = 0;
                for (var e : copied.entrySet()) {
                    out.println(e.getKey().sqlName() + " " + e.getValue());
                    total += e.getValue();
                }
                rsuota.fleet.audit.AuditVerification v = dst.read(rsuota.fleet.audit.AuditVerifier::verify);
                if (!v.ok()) {
                    throw new StartupException("copied " + total + " rows, but the audit chain on " + target.describe()
                            + " does not verify at entry " + v.firstBroken() + ": " + v.problem());
                }
                spec.commandLine().getErr().println("# copied " + total + " rows from " + source.store() + " to " + target.describe()
                        + "; audit chain ok: " + v.entries() + " entries, head " + v.head());
                return ExitCodes.OK;
            } catch (rsuota.fleet.domain.FleetException e) {
                throw new StartupException("migrate-store: " + e.getMessage(), e);
            }
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Serve the REST API, /metrics and /artifacts/.")
    static final class Run implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--data-dir", paramLabel = "DIR", required = true, description = "an initialised data directory")
        Path dataDir;

        @picocli.CommandLine.Mixin
        StoreOptions store = new StoreOptions();

        @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080", description = "port (default ${DEFAULT-VALUE}; 0 picks a free one)")
        int port;

        @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
                description = "address to bind (default ${DEFAULT-VALUE}; 0.0.0.0 to serve devices on the network)")
        String host;

        @Option(names = "--keyring", paramLabel = "PEM", description = "PEM trust anchors for release bundles (default DIR/keyring.pem)")
        Path keyring;

        @Option(names = "--embedded-broker", description = "start an MQTT 5 broker (HiveMQ CE) inside the controller")
        boolean embeddedBroker;

        @Option(names = "--mqtt-host", paramLabel = "HOST", defaultValue = "127.0.0.1", description = "embedded broker's plain listener: a loopback address only,"
                + " it accepts anonymous clients (default ${DEFAULT-VALUE})")
        String mqttHost;

        @Option(names = "--mqtt-port", paramLabel = "PORT", defaultValue = "1883", description = "embedded broker's plain listener port (default ${DEFAULT-VALUE};"
                + " with --mqtt-tls-port the plain listener is off unless --mqtt-host or --mqtt-port is given)")
        int mqttPort;

        @Option(names = "--mqtt-tls-port", paramLabel = "PORT", description = "embedded broker's TLS listener for units on the network: device certificates from"
                + " DIR/device-ca required, each unit confined to its own topics (usually 8883)")
        Integer mqttTlsPort;

        @Option(names = "--mqtt-tls-host", paramLabel = "HOST", defaultValue = "0.0.0.0", description = "TLS listener bind address (default ${DEFAULT-VALUE})")
        String mqttTlsHost;

        @Option(names = "--broker", paramLabel = "URL", description = "an external MQTT 5 broker, e.g. tcp://127.0.0.1:1883, or ssl://HOST:8883 with the controller's"
                + " identity from DIR/device-ca (or --broker-ca/--broker-cert/--broker-key)")
        String broker;

        @Option(names = "--broker-ca", paramLabel = "PEM", description = "CA of the external broker's certificate (default DIR/device-ca/ca.pem)")
        Path brokerCa;

        @Option(names = "--broker-cert", paramLabel = "PEM", description = "the controller's client certificate (CN = its client id; default DIR/device-ca/controller.pem)")
        Path brokerCert;

        @Option(names = "--broker-key", paramLabel = "PEM", description = "its PKCS#8 key (default DIR/device-ca/controller.key)")
        Path brokerKey;

        @Option(names = "--shared-group", paramLabel = "GROUP", description = "MQTT 5 shared-subscription group, when several controllers share the device traffic")
        String sharedGroup;

        @Option(names = "--public-url", paramLabel = "URL", description = "URL devices and humans reach this controller at (bundle and upload URLs, links)")
        String publicUrl;

        @Option(names = "--tick", paramLabel = "DURATION", defaultValue = "1s", description = "rollout engine step interval, start to start (default ${DEFAULT-VALUE}): a rule is judged within one interval of its sustained window")
        String tick;

        @Option(names = "--alert-webhook", paramLabel = "URL", description = "URL alerts (e.g. overdue rollbacks) are POSTed to")
        java.net.URI alertWebhook;

        @Option(names = "--kpi-retention", paramLabel = "DURATION", defaultValue = "30d",
                description = "how long KPI samples are kept, downsampled with age (1d..400d; cover the longest observation window; default ${DEFAULT-VALUE})")
        String kpiRetention;

        @Option(names = "--token-ttl", paramLabel = "DURATION", defaultValue = "90d",
                description = "life of API tokens created or rotated without a ttl of their own (1s..730d; default ${DEFAULT-VALUE})")
        String tokenTtl;

        @Option(names = "--audit-checkpoint-interval", paramLabel = "DURATION", defaultValue = "10m",
                description = "sign the audit chain's head at least this often, and after every rollout decision (default ${DEFAULT-VALUE})")
        String checkpointInterval;

        @Option(names = "--audit-checkpoint-webhook", paramLabel = "URL", description = "URL each signed audit checkpoint is POSTed to (kept outside this host)")
        java.net.URI checkpointWebhook;

        @Option(names = "--failed-auth-limit", paramLabel = "N", defaultValue = "10",
                description = "failed authentications per source address and minute before it is refused with 429 (default ${DEFAULT-VALUE})")
        int failedAuthLimit;

        @Option(names = "--pagerduty-secret-file", paramLabel = "FILE", description = "file holding the PagerDuty v3 webhook subscription's secret;"
                + " enables POST /api/v1/incidents/pagerduty (signature-checked, no token)")
        java.nio.file.Path pagerDutySecretFile;

        @Option(names = "--oidc-issuer", paramLabel = "URL", description = "single sign-on: accept JWTs from this OpenID Connect issuer"
                + " (exactly as tokens carry it in iss; its discovery document names the JWKS)")
        java.net.URI oidcIssuer;

        @Option(names = "--oidc-audience", paramLabel = "AUD", description = "what the tokens' aud must contain (the controller's client id at the provider)")
        String oidcAudience;

        @Option(names = "--oidc-jwks-url", paramLabel = "URL", description = "the provider's JWKS, when discovery is not available")
        java.net.URI oidcJwks;

        @Option(names = "--oidc-roles-claim", defaultValue = "groups", paramLabel = "CLAIM", description = "claim listing the user's groups (default ${DEFAULT-VALUE})")
        String oidcRolesClaim;

        @Option(names = "--oidc-role", paramLabel = "GROUP=ROLE", description = "a group that grants a role: viewer, operator, release-manager or admin (repeatable)")
        java.util.Map<String, String> oidcRoles;

        @Option(names = "--oidc-clock-skew", defaultValue = "60s", paramLabel = "DURATION", description = "tolerance on exp/nbf (0s..5m; default ${DEFAULT-VALUE})")
        String oidcClockSkew;

        @Option(names = "--link", paramLabel = "NAME=URL", description = "pause-event link template NAME=URL (repeatable); placeholders {release} {rollout} {cohort} {from} {to}")
        java.util.Map<String, String> links;

        @Option(names = "--device-link", paramLabel = "NAME=URL", description = "per-device link template NAME=URL (repeatable); placeholders as --link plus {device}")
        java.util.Map<String, String> deviceLinks;

        private Controller.BrokerMode brokerMode() throws StartupException {
            if (embeddedBroker && broker != null) throw new StartupException("give either --embedded-broker or --broker URL, not both");
            DataDir d = new DataDir(dataDir);
            if (embeddedBroker) {
                if (mqttTlsPort == null) return new Controller.BrokerMode.Embedded(mqttHost, mqttPort);
                DeviceCa ca = deviceCa(d, "--mqtt-tls-port");
                var parsed = spec.commandLine().getParseResult();
                boolean plain = parsed.hasMatchedOption("--mqtt-host") || parsed.hasMatchedOption("--mqtt-port");
                return new Controller.BrokerMode.Embedded(plain ? mqttHost : null, mqttPort, ca, mqttTlsHost, mqttTlsPort);
            }
            if (mqttTlsPort != null) throw new StartupException("--mqtt-tls-port configures the embedded broker: add --embedded-broker");
            if (broker == null) return new Controller.BrokerMode.None();
            if (!broker.startsWith("ssl://")) {
                if (brokerCa != null || brokerCert != null || brokerKey != null) {
                    throw new StartupException("--broker-ca/--broker-cert/--broker-key need a TLS broker URL (ssl://HOST:8883), not " + broker);
                }
                return new Controller.BrokerMode.External(broker);
            }
            DeviceCa.Identity mine = brokerCa == null || brokerCert == null || brokerKey == null ? deviceCa(d, "--broker ssl://").controller() : null;
            return new Controller.BrokerMode.External(broker, new rsuota.wire.TlsMaterial(brokerCa != null ? brokerCa : mine.caCert(),
                    brokerCert != null ? brokerCert : mine.cert(), brokerKey != null ? brokerKey : mine.key()));
        }

        private rsuota.fleet.auth.OidcVerifier.Config oidcConfig() throws StartupException {
            if (oidcIssuer == null || oidcAudience == null || oidcRoles == null) {
                throw new StartupException("single sign-on needs --oidc-issuer, --oidc-audience and at least one --oidc-role GROUP=ROLE");
            }
            java.util.Map<String, rsuota.fleet.domain.Role> map = new java.util.LinkedHashMap<>();
            for (var e : oidcRoles.entrySet()) {
                try {
                    map.put(e.getKey(), rsuota.fleet.domain.Role.require(e.getValue(), "--oidc-role " + e.getKey()));
                } catch (IllegalArgumentException | rsuota.fleet.domain.FleetException ex) {
                    throw new StartupException("--oidc-role " + e.getKey() + "=" + e.getValue() + ": " + ex.getMessage());
                }
            }
            try {
                return new rsuota.fleet.auth.OidcVerifier.Config(oidcIssuer, oidcAudience, oidcJwks, oidcRolesClaim, map,
                        rsuota.fleet.domain.Durations.parse(oidcClockSkew, "--oidc-clock-skew"));
            } catch (IllegalArgumentException | rsuota.fleet.domain.FleetException e) {
                throw new StartupException(e.getMessage());
            }
        }

        private static DeviceCa deviceCa(DataDir d, String flag) throws StartupException {
            try {
                return DeviceCa.open(d.deviceCa(), Clock.systemUTC());
            } catch (DeviceCa.CaException e) {
                throw new StartupException(flag + ": " + e.getMessage(), e);
            }
        }

        @Override
        public Integer call() throws StartupException, InterruptedException {
            Controller.BrokerMode mode = brokerMode();
            java.time.Duration step;
            try {
                step = rsuota.fleet.domain.Durations.parse(tick, "--tick");
            } catch (rsuota.fleet.domain.FleetException e) {
                throw new StartupException(e.getMessage());
            }
            rsuota.fleet.policy.LinkTemplates lt = rsuota.fleet.policy.LinkTemplates.defaults();
            if (links != null) for (var e : links.entrySet()) lt = lt.withRollout(e.getKey(), e.getValue());
            if (deviceLinks != null) for (var e : deviceLinks.entrySet()) lt = lt.withDevice(e.getKey(), e.getValue());
            byte[] pagerDutySecret = null;
            if (pagerDutySecretFile != null) {
                try {
                    pagerDutySecret = java.nio.file.Files.readString(pagerDutySecretFile).strip().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                } catch (java.io.IOException e) {
                    throw new StartupException("--pagerduty-secret-file " + pagerDutySecretFile + ": cannot read it: " + e.getMessage());
                }
                if (pagerDutySecret.length < 16) {
                    throw new StartupException("--pagerduty-secret-file " + pagerDutySecretFile + ": holds " + pagerDutySecret.length
                            + " bytes; a PagerDuty webhook secret is longer (copy it from the subscription)");
                }
            }
            Controller controller = Controller.open(new Controller.Config(store.dataDir(dataDir), keyring, host, port, mode, publicUrl, step,
                    lt, alertWebhook, sharedGroup), Clock.systemUTC());
            if (pagerDutySecret != null) controller.incidents().webhooks().pagerDutySecret(pagerDutySecret);
            try {
                controller.kpiRetention(rsuota.fleet.domain.Durations.parse(kpiRetention, "--kpi-retention"));
            } catch (rsuota.fleet.domain.FleetException e) {
                controller.close();
                throw new StartupException("--kpi-retention " + kpiRetention + ": " + e.getMessage());
            }
            try {
                controller.checkpoints().interval(rsuota.fleet.domain.Durations.parse(checkpointInterval, "--audit-checkpoint-interval"));
            } catch (rsuota.fleet.domain.FleetException | IllegalArgumentException e) {
                controller.close();
                throw new StartupException("--audit-checkpoint-interval " + checkpointInterval + ": " + e.getMessage());
            }
            if (checkpointWebhook != null) controller.checkpoints().sink(rsuota.fleet.audit.CheckpointWebhook.to(checkpointWebhook));
            try {
                controller.authLimiter().maxFailures(failedAuthLimit);
            } catch (IllegalArgumentException e) {
                controller.close();
                throw new StartupException(e.getMessage());
            }
            try {
                controller.tokens().defaultTtl(rsuota.fleet.domain.Durations.parse(tokenTtl, "--token-ttl"));
            } catch (rsuota.fleet.domain.FleetException | IllegalArgumentException e) {
                controller.close();
                throw new StartupException("--token-ttl " + tokenTtl + ": " + e.getMessage());
            }
            if (oidcIssuer != null || oidcAudience != null || oidcRoles != null) {
                try {
                    controller.tokens().oidc(rsuota.fleet.auth.OidcVerifier.create(oidcConfig(), Clock.systemUTC()));
                } catch (java.io.IOException | StartupException e) {
                    controller.close();
                    throw e instanceof StartupException se ? se : new StartupException("--oidc-issuer " + oidcIssuer + ": " + e.getMessage(), e);
                }
            }
            try {
                controller.serve();
            } catch (StartupException e) {
                controller.close();
                throw e;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            // SIGTERM (systemd stop) runs the hook: stop accepting, finish in-flight requests, close the store.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                controller.close();
                stopped.countDown();
            }, "fleet-controller-shutdown"));
            spec.commandLine().getOut().println("fleet-controller listening on " + controller.uri()
                    + (controller.brokerUri() == null ? "" : " (MQTT " + controller.brokerUri() + ")"));
            spec.commandLine().getOut().flush();
            stopped.await();
            return ExitCodes.OK;
        }
    }
}
