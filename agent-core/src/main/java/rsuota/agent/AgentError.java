package rsuota.agent;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import rsuota.bundle.Reason;

/**
 * Every failure code the agent reports, in one table. Each code is classified where it is
 * declared: {@link #isTransient() transient} ones heal by retrying (the downloader backs off, the
 * link supervisor reconnects, the outbox re-sends); fatal ones stop the step and are reported.
 *
 * <p>{@link #wire()} is the exact string devices put in {@code lastError.code}, in command acks and
 * on the CLI's stderr line; the controller, the lab and scripts read it, so a wire name never
 * changes (some are lower case for that reason). {@link #exit()} is the {@code rsu-agent} exit
 * status when the code ends a command.
 *
 * <p>Why one enum: the codes used to be strings spread over five exception classes, some with
 * their own enums; the same word (CONNECTION_LOST) appeared in two of them and nothing held the
 * set together. See docs/architecture.md (agent-core).
 */
public enum AgentError {
    // --- Orders refused by the update engine (rsu-agent install/activate/rollback, desired state).
    /** A new install was ordered while one is in flight. */
    BUSY(false, AgentExit.FAILED),
    /** The maintenance window given to activate does not parse. */
    BAD_WINDOW(false, AgentExit.FAILED),
    /** Activate was ordered but no verified release waits. */
    NOTHING_TO_ACTIVATE(false, AgentExit.FAILED),
    /** Rollback was ordered but the running release is not a new one. */
    NOTHING_TO_ROLL_BACK(false, AgentExit.FAILED),
    /** The other slot holds no good release to go back to. */
    NO_PREVIOUS_SLOT(false, AgentExit.FAILED),

    // --- The install itself (reported as failed with this code).
    /** The target slot is the running system: writing it would destroy the running release. */
    SLOT_IS_RUNNING(false, AgentExit.FAILED),
    /** The boot loader environment could not be read or written. */
    BOOT_CONTROL(false, AgentExit.FAILED),
    /**
     * The header of an interrupted download is gone from the state directory, or the verified
     * manifest's tables kept there for the fill no longer read back as written.
     */
    STATE_LOST(false, AgentExit.FAILED),
    /** The reboot into the new (or previous) slot could not be requested. */
    REBOOT_FAILED(false, AgentExit.FAILED),
    /** A state was re-entered too often after restarts (a crash loop); the engine stops it. */
    LOOP_GUARD(false, AgentExit.FAILED),
    /** The bundle's manifest digest is not the one the order named. */
    BUNDLE_MISMATCH(false, AgentExit.FAILED),
    /** The bundle has no rootfs image. */
    NO_ROOTFS_IMAGE(false, AgentExit.FAILED),
    /** The bundle has an image for a slot class this device does not have. */
    UNKNOWN_SLOT_CLASS(false, AgentExit.FAILED),
    /** A chunk is larger than this agent buffers. */
    CHUNK_TOO_LARGE(false, AgentExit.FAILED),
    /** The image does not fit the slot. */
    IMAGE_TOO_LARGE(false, AgentExit.FAILED),
    /** The state directory or slot ran out of space. */
    NO_SPACE(false, AgentExit.FAILED),
    /** The slot or state directory is mounted read-only. */
    READ_ONLY(false, AgentExit.FAILED),
    /** Writing or reading back the slot failed. */
    SLOT_IO_ERROR(false, AgentExit.FAILED),
    /** A download worker failed in a way not classified above (a bug). */
    DOWNLOAD_ERROR(false, AgentExit.FAILED),
    /** The new slot did not boot within its tries, or stopped booting in the commit window. */
    BOOT_FAILED("boot_failed", false, AgentExit.FAILED),
    /** The new release failed its health probes. */
    HEALTH_FAILED("health_failed", false, AgentExit.FAILED),
    /** After a rollback, the previous release failed its health probes too. */
    PREVIOUS_UNHEALTHY("previous_unhealthy", false, AgentExit.FAILED),
    /** After a rollback, the previous slot did not boot either. */
    PREVIOUS_UNBOOTABLE("previous_unbootable", false, AgentExit.FAILED),

    // --- The bundle was refused by the verifier: one code per rsuota.bundle.Reason, same wire name.
    BAD_MAGIC(false, AgentExit.FAILED),
    UNSUPPORTED_FORMAT(false, AgentExit.FAILED),
    TRUNCATED(false, AgentExit.FAILED),
    TRAILING_DATA(false, AgentExit.FAILED),
    MANIFEST_TOO_LARGE(false, AgentExit.FAILED),
    SIGNATURE_TOO_LARGE(false, AgentExit.FAILED),
    MALFORMED_MANIFEST(false, AgentExit.FAILED),
    UNSIGNED(false, AgentExit.FAILED),
    NON_CANONICAL_SIGNATURE(false, AgentExit.FAILED),
    SIGNATURE_INVALID(false, AgentExit.FAILED),
    UNTRUSTED_SIGNER(false, AgentExit.FAILED),
    CERT_NOT_VALID_AT_SIGNING_TIME(false, AgentExit.FAILED),
    CERT_USAGE(false, AgentExit.FAILED),
    WEAK_ALGORITHM(false, AgentExit.FAILED),
    INCOMPATIBLE_VARIANT(false, AgentExit.FAILED),
    DOWNGRADE(false, AgentExit.FAILED),
    /** A fetched chunk's hash differs from the signed list; fetched again, since a proxy may have mangled it. */
    CHUNK_HASH_MISMATCH(true, AgentExit.FAILED),
    /** The image read back from the slot differs from the signed hash. */
    IMAGE_HASH_MISMATCH(false, AgentExit.FAILED),
    /** Format 2: a chunk's stored bytes match their signed hash but inflate to other bytes: the bundle is corrupt as signed. */
    CHUNK_IDENTITY_MISMATCH(false, AgentExit.FAILED),
    /** Format 2: a chunk inflates past its signed length (a decompression bomb) or is not zstd. Nothing of it is written. */
    CHUNK_INFLATE_LIMIT(false, AgentExit.FAILED),
    /**
     * The persisted index of the active slot names bytes outside the slot (or is unreadable); it is
     * discarded and rebuilt from the slot, and the install goes on (if the slot cannot be read or the
     * index not written, without reuse: every chunk is fetched). Reported in the fill's notes.
     */
    ACTIVE_INDEX_INVALID(false, AgentExit.FAILED),
    /**
     * A chunk copied from the active slot no longer hashes to what the index promised (the slot
     * changed under us): it is fetched instead and the index is rebuilt next time. Reported in the fill's notes.
     */
    REUSED_CHUNK_CHANGED(false, AgentExit.FAILED),

    // --- Fetching the bundle (rsuota.agent.download). Transient ones are retried with backoff up to
    // download.retry.maxFailures in a row; then the install fails with the same code.
    /** The connection dropped mid-body, or a chunk came short. */
    CONNECTION_LOST(true, AgentExit.FAILED),
    /** No response (headers) in time. */
    TIMEOUT(true, AgentExit.FAILED),
    /** The body stopped flowing for download.stallTimeout. */
    STALLED(true, AgentExit.FAILED),
    CONNECT_TIMEOUT(true, AgentExit.FAILED),
    CONNECT_FAILED(true, AgentExit.FAILED),
    /** Some other network failure of the HTTP client. */
    NETWORK_ERROR(true, AgentExit.FAILED),
    /** The server's answer contradicts the request (ranges, lengths); another try may reach a sane server. */
    BAD_RESPONSE(true, AgentExit.FAILED),
    /** 429 or 503; Retry-After is honoured. */
    SERVER_BUSY(true, AgentExit.FAILED),
    /** A bundle file could not be read (USB stick); retried. */
    READ_ERROR(true, AgentExit.FAILED),
    /** The bundle changed since the install started (ETag, size, 416). */
    BUNDLE_CHANGED(false, AgentExit.FAILED),
    /** 404/410, or no such bundle file. */
    NOT_FOUND(false, AgentExit.FAILED),
    /** 401/403. */
    ACCESS_DENIED(false, AgentExit.FAILED),
    /** The server answered 200 to a Range request. */
    RANGE_NOT_SUPPORTED(false, AgentExit.FAILED),
    TOO_MANY_REDIRECTS(false, AgentExit.FAILED),
    /** Any other HTTP status; the wire name is {@code HTTP_} followed by the status, e.g. HTTP_418. */
    HTTP_STATUS("HTTP_", false, AgentExit.FAILED),

    // --- The event outbox (rsuota.agent.report). A broken outbox means the state directory is unusable.
    /** Write or fsync failed (disk full, I/O error); the event is not recorded. Retry may work. */
    WRITE_FAILED(true, AgentExit.STATE),
    /** A failed write could not be undone; the outbox refuses events until it is reopened (restart). */
    BROKEN(false, AgentExit.STATE),
    /** The outbox was closed. */
    CLOSED(false, AgentExit.STATE),
    /** The ack pointer file is unreadable: seq could go backwards, so the outbox refuses to open. */
    STATE_CORRUPT(false, AgentExit.STATE),
    /** The directory holds another device's events. */
    FOREIGN_DEVICE(false, AgentExit.STATE),
    /** One event would exceed the wire size limit: a bug in what the engine reports. */
    EVENT_TOO_LARGE(false, AgentExit.STATE),

    // --- Diagnostics bundles (rsuota.agent.diag); rsu-agent diag collect exits with STATE as before.
    /** The archive could not be written (disk full, permissions). */
    COLLECT_FAILED(true, AgentExit.STATE),
    /** The upload URL is missing or not http(s). */
    BAD_URL(false, AgentExit.STATE),
    /** The server refused the upload (4xx other than 416), e.g. an expired URL or a different archive (409). */
    UPLOAD_REJECTED(false, AgentExit.STATE),
    /** The server reported an offset outside the archive. */
    SERVER_OFFSET_INVALID(false, AgentExit.STATE),
    /** Network or server errors outlasted the retries; running the upload again resumes it. */
    UPLOAD_FAILED(true, AgentExit.STATE),
    INTERRUPTED(true, AgentExit.STATE),

    // --- The MQTT link (rsuota.agent.link). Fatal ones need a person (certificate, ACL, configuration).
    /** No connection right now; the supervisor is reconnecting. */
    NOT_CONNECTED(true, AgentExit.FAILED),
    /** No PUBACK (or no window slot) within the publish timeout. */
    PUBLISH_TIMEOUT(true, AgentExit.FAILED),
    /** TCP connect or CONNACK failed: broker down, network away, DNS. */
    BROKER_UNREACHABLE(true, AgentExit.FAILED),
    /** The broker answered the PUBLISH with a failure reason code (ACL, quota, payload). */
    PUBLISH_REFUSED(false, AgentExit.FAILED),
    /** The broker refused the SUBSCRIBE (ACL). */
    SUBSCRIBE_REFUSED(false, AgentExit.FAILED),
    /** CONNACK said not authorized / bad credentials / banned. */
    NOT_AUTHORIZED(false, AgentExit.FAILED),
    /** TLS handshake failed: wrong CA, expired or revoked certificate, host name mismatch. */
    TLS_FAILED(false, AgentExit.FAILED),
    /** Unusable link configuration: key or certificate files, server URI, client id. */
    BAD_CONFIG(false, AgentExit.CONFIG),
    /** The link was stopped. */
    STOPPED(false, AgentExit.FAILED),
    /** Paho failed in a way not listed above; retried. */
    CLIENT_ERROR(true, AgentExit.FAILED),

    // --- One-off commands (rsuota.agent.link.CommandDispatcher acks).
    /** No handler for the command type. */
    UNKNOWN_COMMAND(false, AgentExit.FAILED),
    /** The command's expiry passed before it ran. */
    EXPIRED(false, AgentExit.FAILED),
    /** The command id was seen before (a replay). */
    ALREADY_SEEN(false, AgentExit.FAILED),
    /** The handler threw an unchecked exception: a bug, reported instead of crashing. */
    HANDLER_CRASHED(false, AgentExit.FAILED),

    // --- The daemon's control socket (rsuota.agent.control: rsu-agent talking to the running daemon).
    /** The caller is neither root nor in the control group (control.group, rsu-tech). */
    PERMISSION_DENIED(false, AgentExit.DENIED),
    /** A request the daemon cannot take: not JSON, unknown op, missing argument, another protocol version. */
    BAD_REQUEST(false, AgentExit.USAGE),
    /** The daemon stopped, or the socket broke, before its reply; the action may still go on in a restarted daemon. */
    DAEMON_GONE(true, AgentExit.FAILED),
    /** The install was cancelled (rsu-agent cancel) before it was verified. */
    CANCELLED(false, AgentExit.FAILED),
    /** Cancel was asked for while nothing was downloading or waiting for a window. */
    NOTHING_TO_CANCEL(false, AgentExit.FAILED);

    private static final Map<String, AgentError> BY_WIRE =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(AgentError::wire, Function.identity()));

    private final String wire;
    private final boolean transientFailure;
    private final AgentExit exit;

    AgentError(boolean transientFailure, AgentExit exit) {
        this(null, transientFailure, exit);
    }

    AgentError(String wire, boolean transientFailure, AgentExit exit) {
        this.wire = wire != null ? wire : name();
        this.transientFailure = transientFailure;
        this.exit = exit;
    }

    /** The exact string reported on the wire and printed by the CLI. */
    public String wire() {
        return wire;
    }

    /** True when retrying can succeed without anyone changing anything. */
    public boolean isTransient() {
        return transientFailure;
    }

    /** What {@code rsu-agent} exits with when this code ends a command. */
    public AgentExit exit() {
        return exit;
    }

    /** The code for a verifier refusal; every {@link Reason} has one with the same wire name. */
    public static AgentError of(Reason reason) {
        AgentError e = BY_WIRE.get(reason.name());
        if (e == null) throw new IllegalStateException("no AgentError for bundle reason " + reason);
        return e;
    }
}
