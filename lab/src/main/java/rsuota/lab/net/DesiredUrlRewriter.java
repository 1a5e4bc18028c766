package rsuota.lab.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hop between the devices' broker proxies and the broker that gives every device its own
 * network path to the bundle server. The controller names one bundle URL per release; in the lab
 * each device must fetch through its own {@code FaultProxy} so that faults can hit one device and
 * not another. This hop reads each connection's CONNECT (the client id is the device id) and, in
 * retained {@code rsu/v1/dev/{id}/desired} messages going to that device, replaces the
 * controller's origin in {@code bundleUrl} by the origin of that device's bundle proxy: the lab's
 * stand-in for every cabinet reaching the artifact server over its own cellular link.
 *
 * <p>Nothing else is touched: every other packet, in both directions, passes byte for byte. The
 * desired state is not signed (the bundle is), and the agent checks the bundle's manifest digest
 * from the same message, so the rewrite cannot make a device accept another bundle.
 */
public final class DesiredUrlRewriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DesiredUrlRewriter.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    private final ServerSocket listener;
    private final InetSocketAddress broker;
    private final String controllerOrigin;
    private final Function<String, String> originOf;
    private final ExecutorService threads;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger rewritten = new AtomicInteger();

    /**
     * @param brokerPort       the real broker on 127.0.0.1
     * @param controllerOrigin e.g. {@code http://127.0.0.1:8080}, as the controller writes bundle URLs
     * @param originOf         device id to the origin of its bundle proxy; null leaves the URL alone
     */
    public static DesiredUrlRewriter start(int brokerPort, String controllerOrigin, Function<String, String> originOf) throws IOException {
        DesiredUrlRewriter r = new DesiredUrlRewriter(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), brokerPort), controllerOrigin, originOf);
        r.threads.execute(r::acceptLoop);
        return r;
    }

    private DesiredUrlRewriter(ServerSocket listener, InetSocketAddress broker, String controllerOrigin, Function<String, String> originOf) {
        this.listener = listener;
        this.broker = broker;
        this.controllerOrigin = controllerOrigin.endsWith("/") ? controllerOrigin.substring(0, controllerOrigin.length() - 1) : controllerOrigin;
        this.originOf = originOf;
        AtomicInteger n = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(task -> {
            Thread t = new Thread(task, "lab-mqtt-hop-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Desired states rewritten so far. */
    public int rewritten() {
        return rewritten.get();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException closed) {
                return;
            }
            threads.execute(() -> serve(client));
        }
    }

    /** One device connection: its own upstream connection, one pump per direction. */
    private void serve(Socket client) {
        Socket upstream = new Socket();
        open.add(client);
        open.add(upstream);
        try {
            upstream.connect(broker, CONNECT_TIMEOUT_MILLIS);
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            Session session = new Session();
            InputStream fromClient = new BufferedInputStream(client.getInputStream());
            OutputStream toBroker = upstream.getOutputStream();
            // The CONNECT is read before anything is forwarded, so the session knows the device
            // before the broker can answer with its first packet.
            MqttPacket first = MqttPacket.read(fromClient);
            if (first == null) return;
            if (first.type() == MqttPacket.CONNECT) {
                MqttPacket.Connect c = first.connect();
                session.level = c.level();
                session.origin = originOf.apply(c.clientId());
                session.deviceId = c.clientId();
            }
            toBroker.write(first.encode());
            toBroker.flush();
            threads.execute(() -> pumpDown(upstream, client, session));
            fromClient.transferTo(toBroker);
        } catch (IOException e) {
            log.debug("mqtt hop: client connection ended: {}", e.toString());
        } finally {
            closeBoth(client, upstream);
        }
    }

    private static final class Session {
        volatile int level = 5;
        volatile String origin;
        volatile String deviceId;
    }

    private void pumpDown(Socket upstream, Socket client, Session session) {
        try {
            InputStream in = new BufferedInputStream(upstream.getInputStream());
            OutputStream out = new BufferedOutputStream(client.getOutputStream());
            // Ends when either socket closes (read returns null or throws).
            while (true) {
                MqttPacket p = MqttPacket.read(in);
                if (p == null) return;
                MqttPacket forward = p.type() == MqttPacket.PUBLISH ? rewrite(p, session) : p;
                out.write(forward.encode());
                if (in.available() == 0) out.flush();
            }
        } catch (IOException e) {
            log.debug("mqtt hop: broker connection ended: {}", e.toString());
        } finally {
            closeBoth(client, upstream);
        }
    }

    private MqttPacket rewrite(MqttPacket p, Session session) {
        String origin = session.origin;
        if (origin == null) return p;
        try {
            MqttPacket.Publish pub = p.publish(session.level);
            if (!pub.topic().equals("rsu/v1/dev/" + session.deviceId + "/desired")) return p;
            byte[] payload = java.util.Arrays.copyOfRange(p.body(), pub.payloadOffset(), p.body().length);
            JsonNode tree = JSON.readTree(payload);
            if (!(tree instanceof ObjectNode o) || !o.path("bundleUrl").isTextual()) return p;
            String url = o.get("bundleUrl").textValue();
            if (!url.startsWith(controllerOrigin + "/")) return p;
            o.put("bundleUrl", origin + url.substring(controllerOrigin.length()));
            rewritten.incrementAndGet();
            return p.withPayload(pub.payloadOffset(), JSON.writeValueAsString(o).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // Not ours to judge: the agent refuses a malformed desired state with its own reason code.
            log.debug("mqtt hop: desired state for {} passed unchanged: {}", session.deviceId, e.toString());
            return p;
        }
    }

    private void closeBoth(Socket a, Socket b) {
        for (Socket s : new Socket[] {a, b}) {
            open.remove(s);
            try {
                s.close();
            } catch (IOException alreadyClosed) {
                // nothing left to release
            }
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            log.debug("mqtt hop: closing the listener: {}", e.toString());
        }
        for (Socket s : Set.copyOf(open)) closeBoth(s, s);
        threads.shutdownNow();
    }
}
