package rsuota.agent.report;

import java.io.IOException;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;

/**
 * Why the outbox could not take or keep an event. Not an {@link rsuota.agent.AgentException}: it
 * is an IOException so {@link EventSink#emit} keeps its signature and every sink's caller handles
 * it with the other I/O failures; its code comes from the same {@link AgentError} table.
 */
public final class OutboxException extends IOException {

    private final AgentError code;

    public OutboxException(AgentError code, String message) {
        super(code.wire() + ": " + message);
        this.code = code;
    }

    public OutboxException(AgentError code, String message, Throwable cause) {
        super(code.wire() + ": " + message, cause);
        this.code = code;
    }

    public AgentError code() {
        return code;
    }
}
