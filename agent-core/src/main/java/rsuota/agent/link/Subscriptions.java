package rsuota.agent.link;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.agent.link.MqttLink.MessageHandler;

/**
 * The inbound side of {@link PahoMqttLink}: the remembered subscriptions, subscribing them on a
 * session, and the inbound thread that runs their handlers. Incoming messages leave the Paho
 * callback thread at once through a bounded queue, so a slow handler cannot stall PUBACK
 * processing, and no handler runs inside a Paho callback.
 */
final class Subscriptions {

    /** Logs as {@link PahoMqttLink}: the logger name is in every line, and operators filter on it. */
    private static final Logger LOG = LoggerFactory.getLogger(PahoMqttLink.class);

    private record Inbound(String topic, byte[] payload, boolean retained) {}

    private final LinkConfig config;
    private final BooleanSupplier stopped;
    private final Map<String, MessageHandler> handlers = new ConcurrentHashMap<>();
    private final BlockingQueue<Inbound> inbound;
    private final AtomicLong inboundDropped = new AtomicLong();
    private Thread inboundThread;

    Subscriptions(LinkConfig config, BooleanSupplier stopped) {
        this.config = config;
        this.stopped = stopped;
        this.inbound = new ArrayBlockingQueue<>(config.inboundQueue());
    }

    void start() {
        inboundThread = new Thread(this::inboundLoop, "mqtt-inbound-" + config.clientId());
        inboundThread.setDaemon(true);
        inboundThread.start();
    }

    /** Interrupts the inbound thread and waits a bounded time for it to end. */
    void stop() {
        Thread t = inboundThread;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Remembers {@code handler} for {@code topicFilter}, to be subscribed on every session from now on. */
    void remember(String topicFilter, MessageHandler handler) {
        handlers.put(topicFilter, handler);
    }

    /** The filters remembered so far (a live view). */
    Set<String> filters() {
        return handlers.keySet();
    }

    long inboundDropped() {
        return inboundDropped.get();
    }

    /** Subscribes {@code filters} with QoS 1 on {@code s}; a refused filter is logged, not thrown. */
    void subscribeOn(LinkSession s, List<String> filters) throws AgentException {
        if (filters.isEmpty()) return;
        MqttSubscription[] subs = filters.stream().map(f -> new MqttSubscription(f, 1)).toArray(MqttSubscription[]::new);
        IMqttToken t;
        try {
            t = s.client.subscribe(subs);
            t.waitForCompletion(config.publishTimeout().toMillis());
        } catch (MqttException e) {
            throw new AgentException(s.isLost() ? AgentError.CONNECTION_LOST : AgentError.CLIENT_ERROR,
                    "subscribe " + filters + ": " + e, e);
        }
        int[] rc = t.getReasonCodes();
        for (int i = 0; rc != null && i < rc.length && i < filters.size(); i++) {
            if (rc[i] >= PahoMqttLink.FIRST_FAILURE_REASON) {
                // Fatal for this filter (ACL): nothing the device can retry into working.
                LOG.error("mqtt {}: {}: broker refused subscription to {} with reason 0x{}", config.clientId(),
                        AgentError.SUBSCRIBE_REFUSED, filters.get(i), Integer.toHexString(rc[i]));
            }
        }
    }

    /** Hands a message over from the Paho callback thread. */
    void arrived(String topic, byte[] payload, boolean retained) {
        Inbound m = new Inbound(topic, payload, retained);
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

    private void inboundLoop() {
        while (!stopped.getAsBoolean()) {
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
}
