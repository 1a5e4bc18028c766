package rsuota.agent;

import rsuota.cli.ExitStatus;

/**
 * {@code rsu-agent}'s exit statuses, stable for scripts and the lab (docs/architecture.md). 0, 1 and
 * 2 follow the convention shared with rsu-bundle and fleetctl ({@link ExitStatus}); each
 * {@link AgentError} names the one it ends a command with.
 */
public enum AgentExit implements ExitStatus {
    OK(ExitStatus.OK, "success"),
    INTERNAL(ExitStatus.INTERNAL, "internal error (a bug: the stack trace follows on stderr)"),
    USAGE(ExitStatus.USAGE, "usage error"),
    /** The update engine refused the order or the install failed; stderr has CODE: message. */
    FAILED(3, "install, activate, rollback or health check failed (CODE: message on stderr)"),
    CONFIG(4, "configuration unusable"),
    LOCKED(5, "another rsu-agent holds the state directory"),
    STATE(6, "state or boot environment unreadable"),
    /** The running daemon's control socket refuses this user (PERMISSION_DENIED: message on stderr). */
    DENIED(7, "not allowed: the running daemon accepts root and members of its control group (rsu-tech)");

    private final int code;
    private final String meaning;

    AgentExit(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    @Override
    public int code() {
        return code;
    }

    @Override
    public String meaning() {
        return meaning;
    }
}
