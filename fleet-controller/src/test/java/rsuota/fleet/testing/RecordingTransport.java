package rsuota.fleet.testing;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import rsuota.fleet.link.Transport;

/** A connected transport that records what would be published and confirms it at once. */
public final class RecordingTransport implements Transport {
    public record Sent(String topic, String payload, boolean retained) {}

    public final List<Sent> sent = new CopyOnWriteArrayList<>();

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained) {
        sent.add(new Sent(topic, new String(payload, java.nio.charset.StandardCharsets.UTF_8), retained));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public boolean connected() {
        return true;
    }
}
