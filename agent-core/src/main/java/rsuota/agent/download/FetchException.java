package rsuota.agent.download;

import java.time.Duration;

/**
 * A failed fetch, classified where it happened: {@link #transientFailure()} ones are retried with
 * backoff, the others end the download with {@link #code()} as the failure reason.
 */
public class FetchException extends Exception {
    private final String code;
    private final boolean transientFailure;
    private final Duration retryAfter;

    public FetchException(String code, boolean transientFailure, String message, Duration retryAfter) {
        super(message);
        this.code = code;
        this.transientFailure = transientFailure;
        this.retryAfter = retryAfter;
    }

    public static FetchException retry(String code, String message) {
        return new FetchException(code, true, message, null);
    }

    public static FetchException fatal(String code, String message) {
        return new FetchException(code, false, message, null);
    }

    public String code() {
        return code;
    }

    public boolean transientFailure() {
        return transientFailure;
    }

    /** What the server asked for in Retry-After, or null. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
