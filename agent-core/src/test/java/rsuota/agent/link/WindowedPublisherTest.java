package rsuota.agent.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;

/**
 * A publish on a Paho client that another thread closed fails its future with a transient code and
 * gives its window slot back; it never throws into the outbox's publishing thread (a
 * NullPointerException from inside Paho once killed that thread under load).
 */
class WindowedPublisherTest {
    /**
     * Paho failing from inside, as when a reconnect closes the client while the outbox publishes (the race is not
     * reproducible on demand: this client fails the way the trace showed, at {@code ClientComms.internalSend}).
     */
    static final class ClosingUnderUs extends MqttAsyncClient {
        ClosingUnderUs() throws org.eclipse.paho.mqttv5.common.MqttException {
            super("tcp://127.0.0.1:1", "closing-under-us", new MemoryPersistence());
        }

        @Override
        public org.eclipse.paho.mqttv5.client.IMqttToken publish(String topic, org.eclipse.paho.mqttv5.common.MqttMessage message,
                Object userContext, org.eclipse.paho.mqttv5.client.MqttActionListener callback) {
            throw new NullPointerException("Cannot invoke \"ClientState.send(...)\" because \"this.clientState\" is null");
        }
    }

    /** Three publishes on {@code client} (more than its window of 2): the failures they complete with; every slot is given back. */
    private static List<AgentException> publishThrice(MqttAsyncClient client) throws Exception {
        LinkSession s = new LinkSession(client, 1, () -> { });
        s.open(2);
        WindowedPublisher p = new WindowedPublisher(LinkConfig.device("tcp://127.0.0.1:1", client.getClientId()));
        List<AgentException> failures = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                CompletableFuture<Void> f = p.publish(s, "rsu/v1/dev/" + client.getClientId() + "/events", new byte[] {'{', '}'}, false);
                Throwable t = catchThrowable(() -> f.get(5, TimeUnit.SECONDS));
                assertThat(t).isInstanceOf(ExecutionException.class).cause().isInstanceOf(AgentException.class);
                failures.add((AgentException) t.getCause());
            }
            assertThat(s.window().availablePermits()).as("window slots given back").isEqualTo(2);
        } finally {
            p.shutdown();
        }
        return failures;
    }

    @Test
    void aPublishFailingInsidePahoFailsItsFutureAsConnectionLostAndReleasesItsSlot() throws Exception {
        MqttAsyncClient client = new ClosingUnderUs();
        try {
            assertThat(publishThrice(client)).allSatisfy(e -> {
                assertThat(e.code()).isEqualTo(AgentError.CONNECTION_LOST);
                assertThat(e).hasMessageContaining("closing client");
            });
        } finally {
            client.close(true);
        }
    }

    @Test
    void aPublishOnAClosedClientFailsItsFutureAsConnectionLostAndReleasesItsSlot() throws Exception {
        MqttAsyncClient client = new MqttAsyncClient("tcp://127.0.0.1:1", "closed-under-us", new MemoryPersistence());
        client.close(true);
        assertThat(publishThrice(client)).allSatisfy(e -> {
            assertThat(e.code()).isEqualTo(AgentError.CONNECTION_LOST);
            assertThat(e.isTransient()).isTrue();
        });
    }
}
