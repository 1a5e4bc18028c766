package rsuota.agent.link;

import java.util.Map;
import rsuota.wire.MqttCommand;

/**
 * Runs one-off commands that passed the id/expiry checks. Returns result details for the ack
 * event; throws {@link CommandFailedException} with a reason code when the command fails.
 */
public interface CommandHandler {
    Map<String, String> handle(MqttCommand command) throws CommandFailedException;

    final class CommandFailedException extends Exception {
        private final String code;

        public CommandFailedException(String code, String message) {
            super(message);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }
}
