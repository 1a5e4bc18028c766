package rsuota.agent.link;

/**
 * A failure of the MQTT link, classified where it happens. Transient failures heal by retrying
 * (the supervisor reconnects, the outbox re-sends); fatal ones need a person (a certificate, an
 * ACL, a configuration) and are logged at error level with their stable code.
 */
public final class LinkException extends Exception {

    public enum Code {
        /** No connection right now; the supervisor is reconnecting. */
        NOT_CONNECTED(true),
        /** The connection dropped while the operation was in flight; its outcome is unknown. */
        CONNECTION_LOST(true),
        /** No PUBACK (or no window slot) within the publish timeout. */
        PUBLISH_TIMEOUT(true),
        /** TCP connect or CONNACK failed: broker down, network away, DNS. */
        BROKER_UNREACHABLE(true),
        /** The broker answered the PUBLISH with a failure reason code (ACL, quota, payload). */
        PUBLISH_REFUSED(false),
        /** The broker refused the SUBSCRIBE (ACL). */
        SUBSCRIBE_REFUSED(false),
        /** CONNACK said not authorized / bad credentials / banned. */
        NOT_AUTHORIZED(false),
        /** TLS handshake failed: wrong CA, expired or revoked certificate, host name mismatch. */
        TLS_FAILED(false),
        /** Unusable configuration: key or certificate files, server URI, client id. */
        BAD_CONFIG(false),
        /** The link was stopped. */
        STOPPED(false),
        /** Paho failed in a way not listed above; retried. */
        CLIENT_ERROR(true);

        private final boolean transientFailure;

        Code(boolean transientFailure) {
            this.transientFailure = transientFailure;
        }

        /** True when retrying can succeed without anyone changing anything. */
        public boolean isTransient() {
            return transientFailure;
        }
    }

    private final Code code;

    public LinkException(Code code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    public LinkException(Code code, String message, Throwable cause) {
        super(code + ": " + message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }

    public boolean isTransient() {
        return code.isTransient();
    }

    /** The LinkException inside a failed future's exception, or a CLIENT_ERROR wrapping it. */
    public static LinkException of(Throwable t) {
        Throwable c = t;
        for (int depth = 0; c != null && depth < 8; depth++, c = c.getCause()) {
            if (c instanceof LinkException le) return le;
        }
        return new LinkException(Code.CLIENT_ERROR, String.valueOf(t), t);
    }
}
