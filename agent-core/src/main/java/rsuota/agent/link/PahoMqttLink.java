package rsuota.agent.link;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.random.RandomGenerator;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.wire.MqttPresence;
import rsuota.wire.WireCodec;

/**
 * {@link MqttLink} on Eclipse Paho's MQTT 5 client, contained as FIELD-NOTES advises:
 * <ul>
 *   <li>{@link MemoryPersistence}: the agent's outbox is the durable store; Paho's file
 *       persistence would write one file per in-flight message into the working directory.</li>
 *   <li>Our own {@link ConnectionSupervisor} instead of Paho's automatic reconnect, and a fresh
 *       Paho client per connection.</li>
 *   <li>A publish window per connection sized to the broker's Receive Maximum from the CONNACK,
 *       so Paho never throws "Too many publishes in progress".</li>
 *   <li>Incoming messages leave the Paho callback thread at once (a bounded queue to our inbound
 *       thread): a slow handler cannot stall PUBACK processing, and nothing we do runs inside a
 *       Paho callback.</li>
 * </ul>
 * With a presence topic, the Last Will is a retained {@code offline} and every connect publishes
 * a retained {@code online}; {@link #stop()} publishes {@code offline} itself before a clean
 * DISCONNECT (after which the broker does not send the will).
 */
public final class PahoMqttLink implements MqttLink {

    private static final Logger LOG = LoggerFactory.getLogger(PahoMqttLink.class);

    /** MQTT 5: no Receive Maximum property in the CONNACK means 65,535. */
    private static final int DEFAULT_RECEIVE_MAXIMUM = 65_535;
    /** Reason codes from 0x80 up are failures (MQTT 5, 2.4). */
    private static final int FIRST_FAILURE_REASON = 0x80;
    /** How often a publisher waiting for a window slot re-checks that its connection is alive. */
    private static final long WINDOW_POLL_MILLIS = 50;
    /** Paho's "Too many publishes in progress": should not happen with our window, retried if it does. */
    private static final int PAHO_MAX_INFLIGHT = org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_MAX_INFLIGHT;
    private static final int MAX_INFLIGHT_RETRIES = 100;
    /** Time given to the offline announcement and the DISCONNECT on a clean stop. */
    private static final Duration GOODBYE = Duration.ofSeconds(2);

    private final LinkConfig config;
    private final Clock clock;
    private final ConnectionSupervisor supervisor;
    private final Map<String, MessageHandler> handlers = new ConcurrentHashMap<>();
    private final List<ConnectionListener> listeners = new CopyOnWriteArrayList<>();
    private final BlockingQueue<Inbound> inbound;
    private final ScheduledThreadPoolExecutor timers;
    private final AtomicLong sessions = new AtomicLong();
    private final AtomicLong inboundDropped = new AtomicLong();
    private volatile LinkSession current;
    private volatile boolean started;
    private volatile boolean stopped;
    private volatile boolean graceful = true;
    private Thread inboundThread;

    private record Inbound(String topic, byte[] payload, boolean retained) {}

    public PahoMqttLink(LinkConfig config, Clock clock) {
        this(config, clock, RandomGenerator.getDefault());
    }

    public PahoMqttLink(LinkConfig config, Clock clock, RandomGenerator random) {
        if (config.serverUri().startsWith("ssl://") && config.tls() == null) {
            throw new IllegalArgumentException("ssl:// needs TLS files (CA, client certificate, key): use LinkConfig.withTls");
        }
        this.config = config;
        this.clock = clock;
        this.inbound = new ArrayBlockingQueue<>(config.inboundQueue());
        this.supervisor = new ConnectionSupervisor(config.clientId(), config.backoff(), random, new Target());
        this.timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "mqtt-timers-" + config.clientId());
            t.setDaemon(true);
            return t;
        });
        timers.setRemoveOnCancelPolicy(true);
    }

    @Override
    public synchronized void start() {
        if (started) return;
        started = true;
        inboundThread = new Thread(this::inboundLoop, "mqtt-inbound-" + config.clientId());
        inboundThread.setDaemon(true);
        inboundThread.start();
        supervisor.start();
    }

    @Override
    public void stop() {
        shutdown(true);
    }

    /**
     * Drops the connection without DISCONNECT and without announcing offline, and stops every
     * thread: what the broker sees when the agent is killed (it then publishes the Last Will).
     * For crash tests; the daemon uses {@link #stop()}.
     */
    public void halt() {
        shutdown(false);
    }

    private void shutdown(boolean clean) {
        synchronized (this) {
            if (stopped) return;
            stopped = true;
            graceful = clean;
        }
        supervisor.stop(config.connectTimeout().plus(GOODBYE.multipliedBy(3)));
        Thread t = inboundThread;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        timers.shutdownNow();
    }

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained) {
        if (stopped) return failed(LinkException.Code.STOPPED, "link stopped");
        LinkSession s = current;
        if (s == null || s.isLost()) return failed(LinkException.Code.NOT_CONNECTED, "not connected to " + config.serverUri());
        return publishOn(s, topic, payload, retained);
    }

    @Override
    public void subscribe(String topicFilter, MessageHandler handler) {
        handlers.put(topicFilter, handler);
        LinkSession s = current;
        if (s != null && !s.isLost()) {
            try {
                subscribeOn(s, List.of(topicFilter));
            } catch (LinkException e) {
                // The next reconnect subscribes again; a refusal was logged with its code.
                LOG.warn("mqtt {}: subscribe {} now failed, renewed on reconnect: {}", config.clientId(), topicFilter, e.getMessage());
            }
        }
    }

    @Override
    public void addConnectionListener(ConnectionListener listener) {
        listeners.add(listener);
    }

    @Override
    public boolean isConnected() {
        LinkSession s = current;
        return s != null && !s.isLost() && s.client.isConnected();
    }

    @Override
    public int publishWindow() {
        LinkSession s = current;
        return s == null || s.isLost() ? 0 : s.windowSize();
    }

    /** Messages dropped because handlers fell more than the inbound queue behind (logged each time). */
    public long inboundDropped() {
        return inboundDropped.get();
    }

    private CompletableFuture<Void> publishOn(LinkSession s, String topic, byte[] payload, boolean retained) {
        long deadline = System.nanoTime() + config.publishTimeout().toNanos();
        try {
            while (!s.window().tryAcquire(WINDOW_POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                if (s.isLost()) return failed(LinkException.Code.CONNECTION_LOST, "connection lost while waiting for a window slot");
                if (System.nanoTime() - deadline > 0) {
                    return failed(LinkException.Code.PUBLISH_TIMEOUT, "no window slot within " + config.publishTimeout().toMillis() + " ms");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(LinkException.Code.STOPPED, "interrupted while waiting for a window slot");
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) s.window().release();
        };
        s.track(f);
        long left = Math.max(1, deadline - System.nanoTime());
        ScheduledFuture<?> timer = schedule(() -> f.completeExceptionally(new LinkException(LinkException.Code.PUBLISH_TIMEOUT,
                "no PUBACK for " + topic + " within " + config.publishTimeout().toMillis() + " ms")), left);
        f.whenComplete((v, e) -> {
            if (timer != null) timer.cancel(false);
        });
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        m.setRetained(retained);
        MqttActionListener listener = new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
                // Paho decrements its in-flight count before calling us, so releasing here keeps
                // our window and its count in step.
                release.run();
                int rc = firstReasonCode(token);
                if (rc >= FIRST_FAILURE_REASON) {
                    f.completeExceptionally(new LinkException(LinkException.Code.PUBLISH_REFUSED,
                            "broker refused PUBLISH to " + topic + " with reason 0x" + Integer.toHexString(rc)));
                } else {
                    f.complete(null);
                }
            }

            @Override
            public void onFailure(IMqttToken token, Throwable e) {
                release.run();
                f.completeExceptionally(new LinkException(LinkException.Code.CONNECTION_LOST, "publish to " + topic + " failed: " + e, e));
            }
        };
        for (int attempt = 0; ; attempt++) {
            try {
                s.client.publish(topic, m, null, listener);
                return f;
            } catch (MqttException e) {
                if (e.getReasonCode() == PAHO_MAX_INFLIGHT && attempt < MAX_INFLIGHT_RETRIES && !s.isLost()) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                    continue;
                }
                release.run();
                LinkException.Code code = s.isLost() || !s.client.isConnected()
                        ? LinkException.Code.CONNECTION_LOST : LinkException.Code.CLIENT_ERROR;
                f.completeExceptionally(new LinkException(code, "publish to " + topic + ": " + e, e));
                return f;
            }
        }
    }

    private ScheduledFuture<?> schedule(Runnable r, long nanos) {
        try {
            return timers.schedule(r, nanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            return null;
        }
    }

    private static int firstReasonCode(IMqttToken token) {
        int[] rc = token.getReasonCodes();
        return rc == null || rc.length == 0 ? 0 : rc[0];
    }

    private static CompletableFuture<Void> failed(LinkException.Code code, String message) {
        return CompletableFuture.failedFuture(new LinkException(code, message));
    }

    private void subscribeOn(LinkSession s, List<String> filters) throws LinkException {
        if (filters.isEmpty()) return;
        MqttSubscription[] subs = filters.stream().map(f -> new MqttSubscription(f, 1)).toArray(MqttSubscription[]::new);
        IMqttToken t;
        try {
            t = s.client.subscribe(subs);
            t.waitForCompletion(config.publishTimeout().toMillis());
        } catch (MqttException e) {
            throw new LinkException(s.isLost() ? LinkException.Code.CONNECTION_LOST : LinkException.Code.CLIENT_ERROR,
                    "subscribe " + filters + ": " + e, e);
        }
        int[] rc = t.getReasonCodes();
        for (int i = 0; rc != null && i < rc.length && i < filters.size(); i++) {
            if (rc[i] >= FIRST_FAILURE_REASON) {
                // Fatal for this filter (ACL): nothing the device can retry into working.
                LOG.error("mqtt {}: {}: broker refused subscription to {} with reason 0x{}", config.clientId(),
                        LinkException.Code.SUBSCRIBE_REFUSED, filters.get(i), Integer.toHexString(rc[i]));
            }
        }
    }

    private byte[] presence(String status) {
        return WireCodec.encode(new MqttPresence(MqttPresence.SCHEMA, status, clock.instant()));
    }

    /** The Last Will is sent by the broker at an unknown later time, so it carries no timestamp. */
    private static byte[] willPayload() {
        return WireCodec.encode(new MqttPresence(MqttPresence.SCHEMA, MqttPresence.OFFLINE, null));
    }

    private MqttConnectionOptions options() throws LinkException {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setServerURIs(new String[] {config.serverUri()});
        // Sessions survive short outages so QoS 1 commands queued at the broker still arrive;
        // everything else is re-sent (outbox) or retained (desired), so losing a session is safe.
        o.setCleanStart(false);
        o.setSessionExpiryInterval(config.sessionExpiry().toSeconds());
        o.setKeepAliveInterval((int) config.keepAlive().toSeconds());
        o.setConnectionTimeout((int) Math.max(1, config.connectTimeout().toSeconds()));
        o.setAutomaticReconnect(false);
        o.setMaximumPacketSize(config.maxPacketBytes());
        if (config.presenceTopic() != null) {
            MqttMessage will = new MqttMessage(willPayload());
            will.setQos(1);
            will.setRetained(true);
            o.setWill(config.presenceTopic(), will);
        }
        if (config.tls() != null) {
            // Read on every connect: a renewed certificate is picked up without a restart.
            o.setSocketFactory(config.tls().sslContext().getSocketFactory());
            o.setHttpsHostnameVerificationEnabled(true);
        }
        return o;
    }

    private LinkException classifyConnectFailure(MqttException e) {
        int rc = e.getReasonCode();
        String what = "connect to " + config.serverUri() + " as " + config.clientId() + ": ";
        switch (rc) {
            case 0x86, 0x87, 0x8A, 0x8C, 0x8D:
                return new LinkException(LinkException.Code.NOT_AUTHORIZED, what + "broker refused with reason 0x" + Integer.toHexString(rc), e);
            case 0x84, 0x85, 0x95:
                return new LinkException(LinkException.Code.BAD_CONFIG, what + "broker refused with reason 0x" + Integer.toHexString(rc), e);
            default:
                break;
        }
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof SSLHandshakeException) {
                return new LinkException(LinkException.Code.TLS_FAILED, what + "TLS handshake failed: " + c.getMessage(), e);
            }
            if (c instanceof ConnectException || c instanceof NoRouteToHostException || c instanceof UnknownHostException) {
                return new LinkException(LinkException.Code.BROKER_UNREACHABLE, what + c, e);
            }
            if (c instanceof SSLException) {
                // A reset during the handshake: usually the broker going away, sometimes a refused certificate.
                return new LinkException(LinkException.Code.BROKER_UNREACHABLE, what + "TLS connection failed: " + c.getMessage(), e);
            }
        }
        if (rc >= FIRST_FAILURE_REASON && rc <= 0xFF) {
            return new LinkException(LinkException.Code.BROKER_UNREACHABLE, what + "broker refused with reason 0x" + Integer.toHexString(rc), e);
        }
        return new LinkException(LinkException.Code.BROKER_UNREACHABLE, what + e, e);
    }

    private void inboundLoop() {
        while (!stopped) {
            Inbound m;
            try {
                m = inbound.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (m == null) continue;
            for (Map.Entry<String, MessageHandler> h : handlers.entrySet()) {
                if (!TopicFilter.matches(h.getKey(), m.topic())) continue;
                try {
                    h.getValue().onMessage(m.topic(), m.payload(), m.retained());
                } catch (RuntimeException e) {
                    // The boundary between the link and the agent: a handler bug must not stop
                    // delivery of the next message, so it is logged with its stack and counted.
                    LOG.error("mqtt {}: HANDLER_FAILED: handler for {} threw on a message of {} bytes on {}",
                            config.clientId(), h.getKey(), m.payload().length, m.topic(), e);
                }
            }
        }
    }

    private void closeClient(MqttAsyncClient client, boolean sendDisconnect) {
        try {
            if (client.isConnected()) {
                if (sendDisconnect) {
                    client.disconnect(GOODBYE.toMillis()).waitForCompletion(GOODBYE.toMillis() + 1000);
                } else {
                    client.disconnectForcibly(0, 1000, false);
                }
            }
        } catch (MqttException e) {
            LOG.debug("mqtt {}: disconnect: {}", config.clientId(), e.toString());
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            LOG.debug("mqtt {}: close: {}", config.clientId(), e.toString());
        }
    }

    /** The supervisor's view: one connect attempt, and the end of a session. Runs on its thread. */
    private final class Target implements ConnectionSupervisor.Target {

        @Override
        public LinkSession connect() throws LinkException {
            MqttConnectionOptions options = options();
            MqttAsyncClient client;
            try {
                client = new MqttAsyncClient(config.serverUri(), config.clientId(), new MemoryPersistence());
            } catch (MqttException | IllegalArgumentException e) {
                throw new LinkException(LinkException.Code.BAD_CONFIG, "MQTT client for " + config.serverUri() + ": " + e, e);
            }
            LinkSession s = new LinkSession(client, sessions.incrementAndGet(), supervisor::signal);
            client.setCallback(new Callbacks(s));
            IMqttToken token;
            try {
                token = client.connect(options);
                token.waitForCompletion(config.connectTimeout().toMillis() + 2000);
            } catch (MqttException e) {
                closeClient(client, false);
                throw classifyConnectFailure(e);
            }
            MqttProperties props = token.getResponseProperties();
            Integer rm = props == null ? null : props.getReceiveMaximum();
            int window = rm == null || rm <= 0 ? DEFAULT_RECEIVE_MAXIMUM : rm;
            s.open(window);
            try {
                List<String> filters = List.copyOf(handlers.keySet());
                subscribeOn(s, filters);
                // Published only now, so "connected" means "subscribed" too; filters added while
                // this ran are subscribed here or by subscribe() itself, seeing current set.
                current = s;
                subscribeOn(s, handlers.keySet().stream().filter(f -> !filters.contains(f)).toList());
                if (config.presenceTopic() != null) {
                    publishOn(s, config.presenceTopic(), presence(MqttPresence.ONLINE), true)
                            .get(config.publishTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
                }
            } catch (LinkException e) {
                abandon(s, e);
                throw e;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                LinkException le = LinkException.of(e.getCause() != null ? e.getCause() : e);
                if (le.code() != LinkException.Code.PUBLISH_REFUSED) {
                    abandon(s, le);
                    throw le;
                }
                LOG.error("mqtt {}: presence 'online' refused: {}", config.clientId(), le.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                LinkException le = new LinkException(LinkException.Code.STOPPED, "interrupted while connecting");
                abandon(s, le);
                throw le;
            }
            LOG.info("mqtt {}: connected to {} (session {}, window {})", config.clientId(), config.serverUri(), s.number, window);
            for (ConnectionListener l : listeners) {
                try {
                    l.connected(window);
                } catch (RuntimeException e) {
                    LOG.error("mqtt {}: LISTENER_FAILED: connection listener threw", config.clientId(), e);
                }
            }
            return s;
        }

        private void abandon(LinkSession s, LinkException cause) {
            s.markLost(cause);
            if (current == s) current = null;
            s.failOutstanding(cause);
            closeClient(s.client, false);
        }

        @Override
        public void ended(LinkSession s, LinkException cause, boolean stopping) {
            if (stopping && graceful && !s.isLost()) {
                if (config.presenceTopic() != null) {
                    try {
                        publishOn(s, config.presenceTopic(), presence(MqttPresence.OFFLINE), true)
                                .get(GOODBYE.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                        LOG.warn("mqtt {}: presence 'offline' not confirmed on stop: {}", config.clientId(), e.getMessage());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                closeClient(s.client, true);
            } else {
                closeClient(s.client, false);
            }
            s.markLost(cause);
            if (current == s) current = null;
            s.failOutstanding(cause);
            for (ConnectionListener l : listeners) {
                try {
                    l.disconnected(cause);
                } catch (RuntimeException e) {
                    LOG.error("mqtt {}: LISTENER_FAILED: connection listener threw", config.clientId(), e);
                }
            }
        }
    }

    /** Paho's callbacks for one session: only hand-offs, never blocking work or Paho calls. */
    private final class Callbacks implements MqttCallback {
        private final LinkSession session;

        Callbacks(LinkSession session) {
            this.session = session;
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            String why = response.getException() != null ? response.getException().toString()
                    : "reason 0x" + Integer.toHexString(response.getReturnCode()) + " " + response.getReasonString();
            session.markLost(new LinkException(LinkException.Code.CONNECTION_LOST, "disconnected: " + why, response.getException()));
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            LOG.warn("mqtt {}: CLIENT_ERROR: {}", config.clientId(), exception.toString());
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            Inbound m = new Inbound(topic, message.getPayload(), message.isRetained());
            try {
                // Blocking here for a while is backpressure (TCP stops being read); dropping after
                // 10 s keeps a stuck handler from wedging the connection and its PUBACKs forever.
                if (!inbound.offer(m, 10, TimeUnit.SECONDS)) {
                    inboundDropped.incrementAndGet();
                    LOG.error("mqtt {}: INBOUND_OVERFLOW: handlers are {} messages behind, dropped a message on {}",
                            config.clientId(), config.inboundQueue(), topic);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
            // Completion is handled per publish by its action listener.
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            // Deliberately empty: subscribing here can deadlock Paho; the supervisor does it.
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
            // No enhanced authentication is used.
        }
    }
}
