package rsuota.fleet.cli;

import java.util.List;
import rsuota.cli.ExitStatus;

/**
 * fleetctl's exit codes: a script can tell "not allowed" from "not there" from "controller down"
 * without parsing stderr. Stable once released, so they stay int constants; 0, 1 and 2 follow the
 * convention shared with rsu-agent and rsu-bundle ({@link ExitStatus}). {@link #FLEETCTL} and
 * {@link #FLEET_CONTROLLER} are what each command's --help lists; a test holds every constant to
 * one of them.
 */
public final class ExitCodes {
    private ExitCodes() {}

    public static final int OK = 0;
    /** Reserved for failures that fit no other code. */
    public static final int FAILED = 1;
    /** Bad command line (picocli's own code). */
    public static final int USAGE = 2;
    /** 401: no token, or the controller does not know it. */
    public static final int UNAUTHENTICATED = 3;
    /** 403: the token's role is too low for the verb. */
    public static final int FORBIDDEN = 4;
    /** 404: the named device, release, cohort or endpoint does not exist. */
    public static final int NOT_FOUND = 5;
    /** 409: conflicts with existing state (taken name, device in another cohort, cohort full). */
    public static final int CONFLICT = 6;
    /** Other 4xx: the controller refused the request (bad field, rejected bundle, incompatible variant). */
    public static final int REJECTED = 7;
    /** 5xx: the controller failed; retrying may help for 503. */
    public static final int SERVER_ERROR = 8;
    /** The controller could not be reached (connection refused, timeout, unknown host). */
    public static final int UNREACHABLE = 9;
    /** A local file (inventory, output) could not be read or written. */
    public static final int LOCAL_IO = 10;
    /** audit verify: the chain is broken. */
    public static final int AUDIT_BROKEN = 11;
    /** device diag: the device did not deliver its bundle within --wait. */
    public static final int TIMEOUT = 13;
    /** fleet-controller init/run: the data directory or keyring does not allow the command. */
    public static final int STARTUP = 12;

    /** Every code fleetctl returns, with its --help line. */
    public static final List<ExitStatus> FLEETCTL = List.of(
            ExitStatus.of(OK, "ok"),
            ExitStatus.of(FAILED, "failed otherwise (interrupted, unexpected error)"),
            ExitStatus.of(USAGE, "usage"),
            ExitStatus.of(UNAUTHENTICATED, "401 no or unknown token"),
            ExitStatus.of(FORBIDDEN, "403 role too low"),
            ExitStatus.of(NOT_FOUND, "404 not found"),
            ExitStatus.of(CONFLICT, "409 conflict"),
            ExitStatus.of(REJECTED, "other 4xx (refused request)"),
            ExitStatus.of(SERVER_ERROR, "5xx controller failure"),
            ExitStatus.of(UNREACHABLE, "controller unreachable"),
            ExitStatus.of(LOCAL_IO, "local file error"),
            ExitStatus.of(AUDIT_BROKEN, "audit chain broken"),
            ExitStatus.of(TIMEOUT, "timed out waiting (device diag)"));

    /** Every code fleet-controller (init, run) returns, with its --help line. */
    public static final List<ExitStatus> FLEET_CONTROLLER = List.of(
            ExitStatus.of(OK, "ok"),
            ExitStatus.of(FAILED, "internal error"),
            ExitStatus.of(USAGE, "usage"),
            ExitStatus.of(STARTUP, "the data directory or keyring does not allow the command"));

    /** The exit code for an HTTP error status. */
    public static int forStatus(int status) {
        return switch (status) {
            case 401 -> UNAUTHENTICATED;
            case 403 -> FORBIDDEN;
            case 404 -> NOT_FOUND;
            case 409 -> CONFLICT;
            default -> status >= 500 ? SERVER_ERROR : status >= 400 ? REJECTED : FAILED;
        };
    }
}
