package rsuota.fleet.cli;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import rsuota.fleet.app.DataDir;
import rsuota.fleet.app.StartupException;
import rsuota.fleet.pki.DeviceCa;
import rsuota.fleet.pki.MosquittoConfig;

/**
 * {@code fleet-controller device-ca init|issue|revoke|list|crl} and {@code broker-config mosquitto}:
 * the MQTT identities of units and controllers (docs/security.md). They work on files under the
 * data directory, on the controller's host, and record each change in the audit log as
 * {@code local:USER}.
 */
final class DeviceCaCommands {
    private DeviceCaCommands() {}

    /** Work on the CA; its refusals end the command as the controller's start-up refusals do (exit 12, the message alone). */
    interface CaWork<T> {
        T run() throws DeviceCa.CaException, StartupException;
    }

    static <T> T translated(CaWork<T> work) throws StartupException {
        try {
            return work.run();
        } catch (DeviceCa.CaException e) {
            throw new StartupException(e.getMessage(), e);
        }
    }

    /** What every device-ca command takes: the data directory (its device-ca/ and its store, where the command is audited). */
    static final class Target {
        @Option(names = "--data-dir", required = true, paramLabel = "DIR", description = "the controller's data directory (holds device-ca/)")
        Path dataDir;

        @picocli.CommandLine.Mixin
        FleetControllerMain.StoreOptions store = new FleetControllerMain.StoreOptions();

        DataDir dir() throws StartupException {
            return store.dataDir(dataDir);
        }

        DeviceCa ca() throws StartupException {
            return translated(() -> DeviceCa.open(dir().deviceCa(), Clock.systemUTC()));
        }

        /** Records the change in the store's audit log as local:USER. */
        void audit(String action, String target, String reason, Map<String, ?> detail) throws StartupException {
            dir().auditLocal(System.getProperty("user.name", "unknown"), action, target, reason, detail, Clock.systemUTC());
        }
    }

    @Command(name = "device-ca", mixinStandardHelpOptions = true, description = "The fleet's device CA: MQTT client certificates for units and controllers, and their revocation.",
            subcommands = {Init.class, Issue.class, Revoke.class, ListCerts.class, Crl.class})
    static final class Group {}

    @Command(name = "init", mixinStandardHelpOptions = true, description = "Create the device CA in DIR/device-ca, with the broker's server certificate and the controller's identity.")
    static final class Init implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Target target = new Target();

        @Option(names = "--broker-name", paramLabel = "HOST", description = "host name or address units reach the broker at (repeatable;"
                + " localhost and 127.0.0.1 are always included)")
        List<String> brokerNames;

        @Override
        public Integer call() throws StartupException {
            DataDir d = target.dir();
            // The store must be there before the CA is: every certificate issued is audited in it.
            try (var db = d.openStore(Clock.systemUTC())) {
                db.read(tx -> null);
            } catch (rsuota.fleet.domain.FleetException e) {
                throw new StartupException(d.describeStore() + ": " + e.getMessage(), e);
            }
            java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>();
            if (brokerNames != null) names.addAll(brokerNames);
            names.add("localhost");
            names.add("127.0.0.1");
            return translated(() -> {
                DeviceCa ca = DeviceCa.init(d.deviceCa(), List.copyOf(names), Clock.systemUTC());
                target.audit("device_ca.init", ca.dir().toString(), "device CA created", Map.of("brokerNames", List.copyOf(names)));
                spec.commandLine().getOut().println(ca.dir().toAbsolutePath());
                spec.commandLine().getErr().println("# device CA created; start the controller with --mqtt-tls-port 8883, and issue each unit's"
                        + " certificate with 'fleet-controller device-ca issue DEVICE_ID --data-dir " + target.dataDir + " --out DIR'");
                return ExitCodes.OK;
            });
        }
    }

    @Command(name = "issue", mixinStandardHelpOptions = true, description = "Issue a client certificate whose CN is DEVICE_ID (the unit's MQTT client id) into --out.")
    static final class Issue implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Target target = new Target();

        @Parameters(index = "0", paramLabel = "DEVICE_ID", description = "the unit's device id (or a controller replica's name with --controller)")
        String id;


        @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory for ID.pem, ID.key and ca.pem (copy them to the unit)")
        Path out;

        @Option(names = "--controller", description = "a controller identity (reads and writes every device topic), e.g. for a second replica")
        boolean controller;

        @Override
        public Integer call() throws StartupException {
            DeviceCa ca = target.ca();
            return translated(() -> {
                DeviceCa.Identity i = ca.issue(id, controller ? DeviceCa.ROLE_CONTROLLER : DeviceCa.ROLE_DEVICE, out);
                target.audit("device_cert.issue", id, "certificate issued",
                        Map.of("serial", i.serial().toString(16), "role", controller ? DeviceCa.ROLE_CONTROLLER : DeviceCa.ROLE_DEVICE));
                spec.commandLine().getOut().println(i.cert().toAbsolutePath());
                spec.commandLine().getErr().println("# on the unit: link.tls.ca=" + i.caCert().getFileName() + " link.tls.cert=" + i.cert().getFileName()
                        + " link.tls.key=" + i.key().getFileName() + " (serial " + i.serial().toString(16) + ")");
                return ExitCodes.OK;
            });
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke every certificate of DEVICE_ID: the broker refuses it at its next connect.")
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Target target = new Target();

        @Parameters(index = "0", paramLabel = "DEVICE_ID", description = "the unit (or controller identity) to lock out")
        String id;


        @Option(names = "--reason", paramLabel = "TEXT", required = true, description = "why, for the audit log (e.g. 'unit stolen from cabinet 12')")
        String reason;

        @Override
        public Integer call() throws StartupException {
            DeviceCa ca = target.ca();
            return translated(() -> {
                List<java.math.BigInteger> serials = ca.revoke(id);
                target.audit("device_cert.revoke", id, reason, Map.of("serials", serials.stream().map(s -> s.toString(16)).toList()));
                spec.commandLine().getOut().println("revoked " + serials.size() + " certificate(s) of " + id + "; CRL " + ca.crl().toAbsolutePath()
                        + " re-signed (an external Mosquitto reads it at restart or SIGHUP)");
                return ExitCodes.OK;
            });
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Every certificate the device CA issued: serial, CN, role, expiry, revocation.")
    static final class ListCerts implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Target target = new Target();

        @Override
        public Integer call() throws StartupException {
            DeviceCa ca = target.ca();
            return translated(() -> {
                Table t = new Table("SERIAL", "CN", "ROLE", "NOT_AFTER", "REVOKED");
                for (DeviceCa.Issued i : ca.list()) {
                    t.row(i.serial().toString(16), i.cn(), i.role(), i.notAfter().toString(), i.revokedAt() == null ? "-" : i.revokedAt().toString());
                }
                t.print(spec.commandLine().getOut());
                return ExitCodes.OK;
            });
        }
    }

    @Command(name = "crl", mixinStandardHelpOptions = true, description = "Re-sign the CRL with a fresh next-update (OpenSSL-based brokers refuse every client once it passes; yearly).")
    static final class Crl implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Target target = new Target();

        @Override
        public Integer call() throws StartupException {
            DeviceCa ca = target.ca();
            return translated(() -> {
                ca.refreshCrl();
            spec.commandLine().getOut().println(ca.crl().toAbsolutePath());
                return ExitCodes.OK;
            });
        }
    }

    @Command(name = "broker-config", mixinStandardHelpOptions = true, description = "Write the configuration of an external broker for this fleet's device identities.",
            subcommands = {Mosquitto.class})
    static final class BrokerConfig {}

    @Command(name = "mosquitto", mixinStandardHelpOptions = true, description = "Write mosquitto.conf and its ACL: TLS with required device certificates (CN = user = client id),"
            + " each unit confined to its own topics, the controllers to the device topics, the CRL checked.")
    static final class Mosquitto implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Target target = new Target();

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory for mosquitto.conf and rsuota.acl")
        Path out;

        @Option(names = "--port", paramLabel = "PORT", defaultValue = "8883", description = "TLS listener port (default ${DEFAULT-VALUE})")
        int port;

        @Option(names = "--bind", defaultValue = "0.0.0.0", paramLabel = "ADDRESS", description = "TLS listener address (default ${DEFAULT-VALUE})")
        String bind;

        @Option(names = "--run-as", defaultValue = "mosquitto", paramLabel = "USER",
                description = "user Mosquitto drops to when started as root; it must read device-ca/broker.key and crl.pem (default ${DEFAULT-VALUE})")
        String runAs;

        @Override
        public Integer call() throws StartupException {
            DeviceCa ca = target.ca();
            return translated(() -> {
                MosquittoConfig.Files files = MosquittoConfig.write(ca, out, bind, port, runAs);
                spec.commandLine().getOut().println(files.conf().toAbsolutePath());
                spec.commandLine().getErr().println("# run: mosquitto -c " + files.conf().toAbsolutePath() + "; the controller connects with --broker ssl://HOST:"
                        + port + " (its identity from " + ca.dir() + ")");
                return ExitCodes.OK;
            });
        }
    }
}
