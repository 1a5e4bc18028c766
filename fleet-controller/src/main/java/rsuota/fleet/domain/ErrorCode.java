package rsuota.fleet.domain;

/**
 * Stable codes for every way a controller call can fail. Callers (fleetctl, the REST layer, the
 * rollout engine) branch on the code, never on the message; names never change once released.
 * {@link #retryable()} says whether the same call may succeed later without anything changing.
 */
public enum ErrorCode {
    /** No bearer token, or one the controller does not know. */
    UNAUTHENTICATED(false),
    /** Too many failed authentications from the caller's address; details carry retryAfter (seconds). */
    TOO_MANY_FAILED_AUTHENTICATIONS(true),
    /** The token is valid but its role is below the one the call needs. */
    FORBIDDEN(false),
    /** The named device, release, cohort or incident does not exist. */
    NOT_FOUND(false),
    /** The request is malformed: bad JSON, a missing or invalid field. The message names the field. */
    INVALID_REQUEST(false),
    /** The path exists but not with this HTTP method. */
    METHOD_NOT_ALLOWED(false),
    /** The request body is larger than the endpoint accepts. */
    PAYLOAD_TOO_LARGE(false),
    /** A release version, cohort name or token label that must be unique is taken. */
    ALREADY_EXISTS(false),
    /** A device is already a member of another cohort of the same release; details name that cohort. */
    COHORT_CONFLICT(false),
    /** A cohort's size cap would be exceeded. */
    COHORT_FULL(false),
    /** A device's variant is not in the release's compatible list. */
    INCOMPATIBLE_VARIANT(false),
    /** The bundle failed verification; details carry the bundle reason code (UNTRUSTED_SIGNER, ...). */
    BUNDLE_REJECTED(false),
    /** An inventory file has a bad row; details name the line and field. Nothing was imported. */
    INVENTORY_INVALID(false),
    /** The rollout (or its phase) is in a state where this operation is not legal; details name the state. */
    ILLEGAL_TRANSITION(false),
    /** An open Sev1 incident is linked to the release: no rollout of it may start or resume. */
    RELEASE_BLOCKED(false),
    /** A phase gate is not met (window still running, an exit criterion or a rule not satisfied); details list what. */
    GATE_NOT_MET(false),
    /**
     * The caller's If-Match does not name the resource's current entity tag: someone changed it since the caller
     * read it (two operators deciding on one rollout). Nothing was changed; details carry the current etag.
     */
    PRECONDITION_FAILED(false),
    /** An upload chunk does not continue where the received bytes end; details carry the received length. */
    RANGE_NOT_SATISFIABLE(false),
    /** The store is locked by another writer past the busy timeout: retry. */
    STORE_BUSY(true),
    /**
     * A leader-only write (rollout engine, rule evaluation, dispatch) from a replica that does not hold the
     * leader lease with its fencing token any more: refused, nothing changed; the current leader does it.
     */
    NOT_LEADER(true),
    /** The store failed (I/O, corruption, a schema this build does not know). */
    STORE_FAILURE(false),
    /** A bug: the controller hit a state it does not expect. */
    INTERNAL(false);

    private final boolean retryable;

    ErrorCode(boolean retryable) {
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}
