package rsuota.agent.report;

import java.io.IOException;

/** Why the outbox could not take or keep an event; an IOException so {@link EventSink#emit} keeps its signature. */
public final class OutboxException extends IOException {

    public enum Code {
        /** Write or fsync failed (disk full, I/O error); the event is not recorded. Retry may work. */
        WRITE_FAILED(true),
        /** A failed write could not be undone; the outbox refuses events until it is reopened (restart). */
        BROKEN(false),
        /** The outbox was closed. */
        CLOSED(false),
        /** The ack pointer file is unreadable: seq could go backwards, so the outbox refuses to open. */
        STATE_CORRUPT(false),
        /** The directory holds another device's events. */
        FOREIGN_DEVICE(false),
        /** One event would exceed the wire size limit: a bug in what the engine reports. */
        EVENT_TOO_LARGE(false);

        private final boolean transientFailure;

        Code(boolean transientFailure) {
            this.transientFailure = transientFailure;
        }

        public boolean isTransient() {
            return transientFailure;
        }
    }

    private final Code code;

    public OutboxException(Code code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    public OutboxException(Code code, String message, Throwable cause) {
        super(code + ": " + message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
