package rsuota.fleet.cli;

/**
 * fleetctl's exit codes: a script can tell "not allowed" from "not there" from "controller down"
 * without parsing stderr. Stable once released.
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
