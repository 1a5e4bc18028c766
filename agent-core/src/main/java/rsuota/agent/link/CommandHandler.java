package rsuota.agent.link;

import java.util.Map;
import rsuota.agent.AgentException;
import rsuota.wire.MqttCommand;

/**
 * Runs one-off commands that passed the id/expiry checks. Returns result details for the ack
 * event; throws {@link AgentException} with its code (the ack's reason) when the command fails.
 */
public interface CommandHandler {
    Map<String, String> handle(MqttCommand command) throws AgentException;

}
