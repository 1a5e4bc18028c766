package rsuota.agent.link;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;

/** Paho's callbacks for one session: only hand-offs, never blocking work or Paho calls. */
final class PahoCallbacks implements MqttCallback {

    /** Logs as {@link PahoMqttLink}: the logger name is in every line, and operators filter on it. */
    private static final Logger LOG = LoggerFactory.getLogger(PahoMqttLink.class);

    private final String clientId;
    private final LinkSession session;
    private final Subscriptions subscriptions;

    PahoCallbacks(String clientId, LinkSession session, Subscriptions subscriptions) {
        this.clientId = clientId;
        this.session = session;
        this.subscriptions = subscriptions;
    }

    @Override
    public void disconnected(MqttDisconnectResponse response) {
        String why = response.getException() != null ? response.getException().toString()
                : "reason 0x" + Integer.toHexString(response.getReturnCode()) + " " + response.getReasonString();
        session.markLost(new AgentException(AgentError.CONNECTION_LOST, "disconnected: " + why, response.getException()));
    }

    @Override
    public void mqttErrorOccurred(MqttException exception) {
        LOG.warn("mqtt {}: CLIENT_ERROR: {}", clientId, exception.toString());
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
        subscriptions.arrived(topic, message.getPayload(), message.isRetained());
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
