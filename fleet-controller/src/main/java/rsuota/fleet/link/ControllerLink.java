package rsuota.fleet.link;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
import rsuota.wire.Topics;

/**
 * The controller's MQTT 5 connection (Eclipse Paho), contained as FIELD-NOTES advises:
 * {@link MemoryPersistence} (the store is the durable outbox), our own supervisor thread for the
 * first connect and every reconnect (backoff with jitter; subscribing happens there, never in a
 * Paho callback, where it can deadlock), a publish window sized to the broker's Receive Maximum,
 * and incoming messages handed off to a bounded queue that one ingest thread drains in batches.
 *
 * <p>The session is persistent (clean start off, one day expiry), so device events that arrive
 * while the controller restarts wait at the broker. With {@code sharedGroup} set, subscriptions
 * are {@code $share/GROUP/...} and several controllers split the device traffic.
 */
public final class ControllerLink implements Transport, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControllerLink.class);
    /** MQTT 5: no Receive Maximum in the CONNACK means 65,535; capped so one burst cannot queue without bound. */
    private static final int WINDOW_CAP = 1000;
    private static final int FIRST_FAILURE_REASON = 0x80;
    private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration BACKOFF_MIN = Duration.ofMillis(500);
    private static final Duration BACKOFF_MAX = Duration.ofSeconds(30);
    /** Messages a batch takes at most: one write transaction of this size commits in milliseconds. */
    static final int BATCH = 1000;
    /** Inbound backlog; beyond it Paho's thread blocks, TCP backs up, and the broker holds the rest. */
    static final int QUEUE = 50_000;

    /**
     * @param serverUri   tcp://host:port, or ssl://host:port with {@code tls}
     * @param clientId    stable per controller instance (its persistent session); with a client
     *                    certificate, the certificate's CN (brokers check that they are equal)
     * @param sharedGroup shared-subscription group, or null for plain subscriptions
     * @param tls         the controller's own identity and the broker's CA, or null for plain TCP
     */
    public record Config(String serverUri, String clientId, String sharedGroup, javax.net.ssl.SSLContext tls) {
        public Config(String serverUri, String clientId, String sharedGroup) {
            this(serverUri, clientId, sharedGroup, null);
        }
    }

    /** The broker's stamp of who published a message (see BrokerSecurity), or null. */
    private static String sender(MqttMessage message) {
        MqttProperties p = message.getProperties();
        if (p == null || p.getUserProperties() == null) return null;
        for (var up : p.getUserProperties()) if (BrokerSecurity.SENDER.equals(up.getKey())) return up.getValue();
        return null;
    }

    private final Config config;
    private final TelemetryIngest ingest;
    private final BlockingQueue<TelemetryIngest.Message> inbound = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private final Object lock = new Object();
    private volatile Runnable onConnect = () -> { };
    private volatile Session session;
    private volatile boolean stopped;
    private Thread supervisor;
    private Thread ingestThread;

    private static final class Session {
        final MqttAsyncClient client;
        final Semaphore window;
        volatile boolean lost;

        Session(MqttAsyncClient client, int window) {
            this.client = client;
            this.window = new Semaphore(window);
        }
    }

    public ControllerLink(Config config, TelemetryIngest ingest) {
        this.config = config;
        this.ingest = ingest;
    }

    /** Called on the supervisor thread after every successful (re)connect and subscribe. */
    public void onConnect(Runnable r) {
        onConnect = r;
    }

    public synchronized void start() {
        if (supervisor != null) return;
        ingestThread = new Thread(this::ingestLoop, "mqtt-ingest");
        ingestThread.setDaemon(true);
        ingestThread.start();
        supervisor = new Thread(this::supervise, "mqtt-supervisor");
        supervisor.setDaemon(true);
        supervisor.start();
    }

    @Override
    public boolean connected() {
        Session s = session;
        return s != null && !s.lost && s.client.isConnected();
    }

    public long received() {
        return received.get();
    }

    public long accepted() {
        return accepted.get();
    }

    public int backlog() {
        return inbound.size();
    }

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained) {
        Session s = session;
        if (s == null || s.lost) return CompletableFuture.failedFuture(new IllegalStateException("not connected to " + config.serverUri()));
        try {
            if (!s.window.tryAcquire(PUBLISH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                return CompletableFuture.failedFuture(new IllegalStateException("no publish window slot within " + PUBLISH_TIMEOUT));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        m.setRetained(retained);
        try {
            s.client.publish(topic, m, null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    s.window.release();
                    int[] rc = token.getReasonCodes();
                    if (rc != null && rc.length > 0 && rc[0] >= FIRST_FAILURE_REASON) {
                        f.completeExceptionally(new IllegalStateException("broker refused " + topic + " with reason 0x" + Integer.toHexString(rc[0])));
                    } else {
                        f.complete(null);
                    }
                }

                @Override
                public void onFailure(IMqttToken token, Throwable e) {
                    s.window.release();
                    f.completeExceptionally(e);
                }
            });
        } catch (MqttException e) {
            s.window.release();
            f.completeExceptionally(e);
        }
        return f.orTimeout(PUBLISH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void supervise() {
        int attempt = 0;
        while (!stopped) {
            Session s;
            try {
                s = connect();
                attempt = 0;
            } catch (MqttException e) {
                long cap = Math.min(BACKOFF_MAX.toMillis(), BACKOFF_MIN.toMillis() << Math.min(attempt++, 10));
                long delay = cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1);
                if (attempt <= 3 || attempt % 10 == 0) {
                    log.warn("mqtt {}: connect to {} failed (attempt {}), retrying in {} ms: {}", config.clientId(), config.serverUri(), attempt, delay, e.toString());
                }
                pause(delay);
                continue;
            }
            try {
                onConnect.run();
            } catch (RuntimeException e) {
                log.error("mqtt {}: on-connect hook failed", config.clientId(), e);
            }
            synchronized (lock) {
                while (!stopped && !s.lost) {
                    try {
                        lock.wait(1000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        stopped = true;
                    }
                }
            }
            session = null;
            close(s.client, stopped);
            if (!stopped) log.warn("mqtt {}: connection to {} lost, reconnecting", config.clientId(), config.serverUri());
        }
    }

    private Session connect() throws MqttException {
        MqttAsyncClient client = new MqttAsyncClient(config.serverUri(), config.clientId(), new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(86_400L);
        o.setAutomaticReconnect(false);
        o.setKeepAliveInterval(30);
        o.setConnectionTimeout(10);
        if (config.tls() != null) {
            o.setSocketFactory(config.tls().getSocketFactory());
            // The broker's certificate must name the host we dialled (HTTPS rules), as the agent checks it.
            o.setHttpsHostnameVerificationEnabled(true);
        }
        Session[] holder = new Session[1];
        client.setCallback(new Callbacks(holder));
        IMqttToken token;
        try {
            token = client.connect(o);
            token.waitForCompletion(15_000);
        } catch (MqttException e) {
            close(client, false);
            throw e;
        }
        MqttProperties props = token.getResponseProperties();
        Integer rm = props == null ? null : props.getReceiveMaximum();
        int window = rm == null || rm <= 0 ? WINDOW_CAP : Math.min(rm, WINDOW_CAP);
        Session s = new Session(client, window);
        holder[0] = s;
        String[] filters = {Topics.ALL_STATE, Topics.ALL_EVENTS, Topics.ALL_PRESENCE};
        MqttSubscription[] subs = new MqttSubscription[filters.length];
        for (int i = 0; i < filters.length; i++) {
            String f = config.sharedGroup() == null ? filters[i] : "$share/" + config.sharedGroup() + "/" + filters[i];
            subs[i] = new MqttSubscription(f, 1);
        }
        try {
            IMqttToken st = client.subscribe(subs);
            st.waitForCompletion(15_000);
            int[] rc = st.getReasonCodes();
            for (int i = 0; rc != null && i < rc.length; i++) {
                if (rc[i] >= FIRST_FAILURE_REASON) log.error("mqtt {}: broker refused subscription {} (reason 0x{})", config.clientId(), subs[i].getTopic(), Integer.toHexString(rc[i]));
            }
        } catch (MqttException e) {
            close(client, false);
            throw e;
        }
        session = s;
        log.info("mqtt {}: connected to {} (publish window {})", config.clientId(), config.serverUri(), window);
        return s;
    }

    private void ingestLoop() {
        List<TelemetryIngest.Message> batch = new ArrayList<>(BATCH);
        while (!stopped || !inbound.isEmpty()) {
            try {
                TelemetryIngest.Message first = inbound.poll(500, TimeUnit.MILLISECONDS);
                if (first == null) continue;
                batch.add(first);
                inbound.drainTo(batch, BATCH - 1);
                accepted.addAndGet(ingest.accept(batch));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // The ingest thread must outlive any one bad batch; the messages are counted as lost here.
                log.error("mqtt ingest: batch of {} failed", batch.size(), e);
            } finally {
                batch.clear();
            }
        }
    }

    private void pause(long ms) {
        synchronized (lock) {
            try {
                if (!stopped) lock.wait(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopped = true;
            }
        }
    }

    private static void close(MqttAsyncClient c, boolean clean) {
        try {
            if (clean && c.isConnected()) c.disconnect().waitForCompletion(2000);
        } catch (MqttException e) {
            log.debug("mqtt disconnect: {}", e.toString());
        }
        try {
            c.close(true);
        } catch (MqttException e) {
            log.debug("mqtt close: {}", e.toString());
        }
    }

    @Override
    public void close() {
        stopped = true;
        synchronized (lock) {
            lock.notifyAll();
        }
        for (Thread t : new Thread[] {supervisor, ingestThread}) {
            if (t == null) continue;
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Paho's callbacks: hand-offs only, never blocking Paho calls. */
    private final class Callbacks implements MqttCallback {
        private final Session[] holder;

        Callbacks(Session[] holder) {
            this.holder = holder;
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            Session s = holder[0];
            if (s != null) s.lost = true;
            synchronized (lock) {
                lock.notifyAll();
            }
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            log.warn("mqtt {}: {}", config.clientId(), exception.toString());
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) throws InterruptedException {
            received.incrementAndGet();
            // Blocking here is backpressure (Paho stops reading; the broker holds the rest).
            inbound.put(new TelemetryIngest.Message(topic, message.getPayload(), sender(message)));
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
            // Per publish through its action listener.
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            // Deliberately empty: the supervisor subscribes (subscribing here can deadlock Paho).
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
            // No enhanced authentication.
        }
    }
}
