package rsuota.agent.cli;

import rsuota.agent.AgentExit;

/**
 * A command failed with this exit status and one stderr line, printed as is. Not an
 * {@link rsuota.agent.AgentException}: the line is the CLI's own wording ("CONFIG: ...",
 * "LOCKED: ...", "sim-init: ..."), not an agent error code reported on the wire.
 */
final class Failure extends Exception {
    final int code;

    Failure(AgentExit exit, String message) {
        this(exit.code(), message);
    }

    Failure(int code, String message) {
        super(message);
        this.code = code;
    }
}
