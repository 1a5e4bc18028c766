package rsuota.agent.link;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.wire.MqttCommand;

/** A {@link CommandHandler} that hands each command type to its own handler; unknown types fail with UNKNOWN_COMMAND. */
public final class CommandRouter implements CommandHandler {

    private final Map<String, CommandHandler> routes = new ConcurrentHashMap<>();

    public CommandRouter route(String type, CommandHandler handler) {
        routes.put(type, handler);
        return this;
    }

    @Override
    public Map<String, String> handle(MqttCommand command) throws AgentException {
        CommandHandler h = routes.get(command.type());
        if (h == null) throw new AgentException(AgentError.UNKNOWN_COMMAND, "no handler for command type '" + command.type() + "'");
        return h.handle(command);
    }
}
