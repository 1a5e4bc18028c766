package rsuota.agent.download;

import java.time.Duration;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;

/**
 * A failed fetch. A class of its own because it carries what the server asked for in Retry-After
 * and because {@link BundleSource#fetch} declares it: transient ones are retried with backoff, the
 * others end the download with their code as the failure reason.
 */
public final class FetchException extends AgentException {
    private final Duration retryAfter;

    public FetchException(AgentError code, String detail) {
        this(code, code.wire(), detail, null);
    }

    private FetchException(AgentError code, String wireCode, String detail, Duration retryAfter) {
        super(code, wireCode, detail, null);
        this.retryAfter = retryAfter;
    }

    /** 429/503 with the server's Retry-After (null when it gave none). */
    public static FetchException serverBusy(String detail, Duration retryAfter) {
        return new FetchException(AgentError.SERVER_BUSY, AgentError.SERVER_BUSY.wire(), detail, retryAfter);
    }

    /** Any HTTP status without a code of its own: reported as HTTP_&lt;status&gt;. */
    public static FetchException httpStatus(int status, String detail) {
        return new FetchException(AgentError.HTTP_STATUS, AgentError.HTTP_STATUS.wire() + status, detail, null);
    }

    /** What the server asked for in Retry-After, or null. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
