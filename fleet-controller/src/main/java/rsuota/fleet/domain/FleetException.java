package rsuota.fleet.domain;

import java.util.Map;

/**
 * A controller call was refused or failed. {@link #code()} is the stable classification made where
 * the failure happened; {@link #details()} carries the machine-readable specifics the API returns
 * beside the message (the conflicting cohort, the bundle reason, the bad line of an inventory).
 */
public class FleetException extends Exception {
    private final ErrorCode code;
    private final Map<String, Object> details;

    public FleetException(ErrorCode code, String message) {
        this(code, message, Map.of(), null);
    }

    public FleetException(ErrorCode code, String message, Map<String, Object> details) {
        this(code, message, details, null);
    }

    public FleetException(ErrorCode code, String message, Map<String, Object> details, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.details = Map.copyOf(details);
    }

    public ErrorCode code() {
        return code;
    }

    public Map<String, Object> details() {
        return details;
    }

    public static FleetException notFound(String what) {
        return new FleetException(ErrorCode.NOT_FOUND, what);
    }

    public static FleetException invalid(String field, String problem) {
        return new FleetException(ErrorCode.INVALID_REQUEST, field + ": " + problem, Map.of("field", field));
    }
}
