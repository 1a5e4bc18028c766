package rsuota.agent.update;

/** An install step failed for good; {@link #code()} is the reason reported as {@code failed}. */
public class InstallException extends Exception {
    private final String code;

    public InstallException(String code, String message) {
        super(message);
        this.code = code;
    }

    public InstallException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
