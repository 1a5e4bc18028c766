package rsuota.fleet.link;

import java.util.concurrent.CompletableFuture;

/** How the controller's outgoing messages leave: the MQTT link, or a recorder in tests. */
public interface Transport {
    /** QoS 1; the future completes on PUBACK and fails on a refusal, a timeout or a lost connection. */
    CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained);

    boolean connected();
}
