package rsuota.lab.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.fleet.app.Controller;
import rsuota.fleet.app.DataDir;
import rsuota.fleet.app.StartupException;
import rsuota.fleet.policy.LinkTemplates;

/**
 * The real fleet controller, in the lab's JVM with its own data directory: the embedded HiveMQ
 * broker by default (nothing to install), or a real Mosquitto started on a free loopback port. The
 * lab talks to it over REST like any operator: the release manager and the operator each get
 * their own token, so the audit trail reads as a real one.
 */
public final class LabController implements AutoCloseable {
    /** Labels of the lab's callers, as the audit trail shows them. */
    public static final String RELEASE_MANAGER = "lab-release-manager";
    public static final String OPERATOR = "lab-operator";

    private volatile Controller controller;
    private final MosquittoBroker mosquitto;
    private final Rest admin;
    private final Rest releaseManager;
    private final Rest operator;

    private LabController(Controller controller, MosquittoBroker mosquitto, Rest admin, Rest releaseManager, Rest operator) {
        this.controller = controller;
        this.mosquitto = mosquitto;
        this.admin = admin;
        this.releaseManager = releaseManager;
        this.operator = operator;
    }

    /**
     * @param dir       the controller's data directory (created)
     * @param keyring   the fleet's root certificate(s)
     * @param tick      the rollout engine step (the lab's clock compression starts here)
     * @param mosquitto true: a real Mosquitto (Debian package) instead of the embedded broker
     */
    public static LabController start(Path dir, Path keyring, Duration tick, boolean mosquitto) throws IOException {
        Files.createDirectories(dir);
        DataDir data = new DataDir(dir);
        String adminToken;
        try {
            adminToken = data.init(keyring, Clock.systemUTC());
        } catch (StartupException e) {
            throw new IOException("controller init in " + dir + ": " + e.getMessage(), e);
        }
        MosquittoBroker broker = mosquitto ? MosquittoBroker.plain() : null;
        Controller.BrokerMode mode = broker != null ? new Controller.BrokerMode.External(broker.uri())
                : new Controller.BrokerMode.Embedded("127.0.0.1", freePort());
        Controller c;
        try {
            c = Controller.open(new Controller.Config(data, null, "127.0.0.1", 0, mode, null, tick, LinkTemplates.defaults(), null, null),
                    Clock.systemUTC());
        } catch (StartupException e) {
            if (broker != null) broker.close();
            throw new IOException("controller: " + e.getMessage(), e);
        }
        try {
            c.serve();
        } catch (StartupException e) {
            c.close();
            if (broker != null) broker.close();
            throw new IOException("controller: " + e.getMessage(), e);
        }
        Rest admin = new Rest(c.uri(), adminToken);
        try {
            Rest rm = admin.as(issue(admin, "release-manager", RELEASE_MANAGER));
            Rest op = admin.as(issue(admin, "operator", OPERATOR));
            return new LabController(c, broker, admin, rm, op);
        } catch (IOException e) {
            c.close();
            if (broker != null) broker.close();
            throw e;
        }
    }

    private static String issue(Rest admin, String role, String label) throws IOException {
        ObjectNode body = Rest.object().put("role", role).put("label", label).put("reason", "lab run");
        return admin.post("/api/v1/tokens", body).path("token").asText();
    }

    /** A free port for the embedded broker (it needs a fixed one to announce its URI). */
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public URI uri() {
        return controller.uri();
    }

    /**
     * Stops the controller (and its embedded broker) as a process would stop, waits {@code off},
     * and starts a new one over the same data directory and the same ports, so units and the lab's
     * REST clients find it where it was. Everything the new one knows comes from its store.
     */
    public synchronized void restart(Duration off) throws IOException {
        Controller old = controller;
        Controller.Config cfg = old.config();
        int port = old.uri().getPort();
        old.close();
        try {
            Thread.sleep(off.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the controller was down", e);
        }
        Controller.Config again = new Controller.Config(cfg.dir(), cfg.keyring(), cfg.host(), port, cfg.broker(), cfg.publicUrl(), cfg.tick(),
                cfg.links(), cfg.alertWebhook(), cfg.sharedGroup());
        try {
            controller = Controller.open(again, Clock.systemUTC()).serve();
        } catch (StartupException e) {
            throw new IOException("controller restart: " + e.getMessage(), e);
        }
    }

    /** The broker's port on 127.0.0.1 (embedded or Mosquitto). */
    public int brokerPort() {
        String u = controller.brokerUri();
        return Integer.parseInt(u.substring(u.lastIndexOf(':') + 1));
    }

    public String brokerDescription() {
        return mosquitto != null ? "Mosquitto " + controller.brokerUri() : "embedded HiveMQ " + controller.brokerUri();
    }

    /** Where bundles must be for the controller to serve them at /artifacts/NAME. */
    public Path artifacts() {
        return controller.releases().artifacts();
    }

    public Rest admin() {
        return admin;
    }

    public Rest releaseManager() {
        return releaseManager;
    }

    public Rest operator() {
        return operator;
    }

    public JsonNode rolloutStatus(long id) throws IOException {
        return admin.get("/api/v1/rollouts/" + id);
    }

    @Override
    public void close() {
        try {
            controller.close();
        } finally {
            if (mosquitto != null) mosquitto.close();
        }
    }
}
