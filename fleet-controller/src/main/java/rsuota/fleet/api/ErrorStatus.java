package rsuota.fleet.api;

import rsuota.fleet.domain.ErrorCode;

/** The one place error codes become HTTP statuses. */
public final class ErrorStatus {
    private ErrorStatus() {}

    public static int of(ErrorCode code) {
        return switch (code) {
            case UNAUTHENTICATED -> 401;
            case FORBIDDEN -> 403;
            case NOT_FOUND -> 404;
            case METHOD_NOT_ALLOWED -> 405;
            case INVALID_REQUEST, INVENTORY_INVALID -> 400;
            case PAYLOAD_TOO_LARGE -> 413;
            case ALREADY_EXISTS, COHORT_CONFLICT, COHORT_FULL, ILLEGAL_TRANSITION, RELEASE_BLOCKED, GATE_NOT_MET -> 409;
            case PRECONDITION_FAILED -> 412;
            case TOO_MANY_FAILED_AUTHENTICATIONS -> 429;
            case RANGE_NOT_SATISFIABLE -> 416;
            case INCOMPATIBLE_VARIANT, BUNDLE_REJECTED -> 422;
            case STORE_BUSY, NOT_LEADER -> 503;
            case STORE_FAILURE, INTERNAL -> 500;
        };
    }
}
