package rsuota.agent;

/**
 * A failure of the agent with its {@link AgentError code}, classified where it happened. The
 * message is {@code "WIRE: detail"} so a log line always names the code; {@link #detail()} is the
 * text reported next to the code ({@code lastError.message}, a command ack's message).
 */
public class AgentException extends Exception {
    private final AgentError code;
    private final String wireCode;
    private final String detail;

    public AgentException(AgentError code, String detail) {
        this(code, code.wire(), detail, null);
    }

    public AgentException(AgentError code, String detail, Throwable cause) {
        this(code, code.wire(), detail, cause);
    }

    /** For codes whose wire name carries a value ({@link AgentError#HTTP_STATUS}). */
    protected AgentException(AgentError code, String wireCode, String detail, Throwable cause) {
        super(wireCode + ": " + detail, cause);
        this.code = code;
        this.wireCode = wireCode;
        this.detail = detail;
    }

    public AgentError code() {
        return code;
    }

    /** The exact string reported on the wire: {@code code().wire()}, or e.g. HTTP_418 for {@link AgentError#HTTP_STATUS}. */
    public String wireCode() {
        return wireCode;
    }

    /** What failed and where, without the code. */
    public String detail() {
        return detail;
    }

    /** True when retrying can succeed without anyone changing anything. */
    public boolean isTransient() {
        return code.isTransient();
    }

    /**
     * The same failure with {@code context} put before the detail ("image rootfs chunk 3: ..."), for
     * a caller that adds where it happened while passing the failure up.
     */
    public AgentException withContext(String context) {
        return new AgentException(code, wireCode, context + detail, this);
    }

    /**
     * A failed write or read of local storage, classified: the kernel's message is all there is to
     * tell a full disk or a read-only mount from a failing device. {@code slot} names the slot, or is
     * null when the failing storage is the state directory.
     */
    public static AgentException io(Object slot, java.io.IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("No space left")) return new AgentException(AgentError.NO_SPACE, "no space left: " + m, e);
        if (m.contains("Read-only file system")) return new AgentException(AgentError.READ_ONLY, "read-only file system: " + m, e);
        return new AgentException(AgentError.SLOT_IO_ERROR, "slot " + slot + ": " + e, e);
    }

    /** The first AgentException in {@code t}'s cause chain, or {@code fallback} wrapping {@code t}. */
    public static AgentException in(Throwable t, AgentError fallback) {
        Throwable c = t;
        for (int depth = 0; c != null && depth < 8; depth++, c = c.getCause()) {
            if (c instanceof AgentException ae) return ae;
        }
        return new AgentException(fallback, String.valueOf(t), t);
    }
}
