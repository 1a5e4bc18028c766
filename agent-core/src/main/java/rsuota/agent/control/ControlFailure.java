package rsuota.agent.control;

import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.agent.AgentExit;

/**
 * A control request that failed, as both ends report it: the code (an {@link AgentError} wire name,
 * or the CLI's own word for a local problem: STATE, CONFIG, LOCKED), the {@code rsu-agent} exit
 * status it ends the command with, and a message saying what to do. The CLI prints
 * {@code CODE: message} on stderr, exactly as it does without a daemon.
 */
public final class ControlFailure extends Exception {
    private final String code;
    private final int exit;

    public ControlFailure(String code, int exit, String message) {
        super(message);
        this.code = code;
        this.exit = exit;
    }

    public ControlFailure(AgentError error, String message) {
        this(error.wire(), error.exit().code(), message);
    }

    public ControlFailure(String code, AgentExit exit, String message) {
        this(code, exit.code(), message);
    }

    public static ControlFailure of(AgentException e) {
        return new ControlFailure(e.wireCode(), e.code().exit().code(), e.detail());
    }

    public String code() {
        return code;
    }

    public int exit() {
        return exit;
    }

    /** The CLI's stderr line. */
    public String line() {
        return code + ": " + getMessage();
    }
}
