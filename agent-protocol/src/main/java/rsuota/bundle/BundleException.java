package rsuota.bundle;

/** A bundle was refused. {@link #reason()} is the stable code; the message says what and where. */
public class BundleException extends Exception {
    private final Reason reason;

    public BundleException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public BundleException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    /** "REASON: message", the one-line form the CLI prints and devices report. */
    public String oneLine() {
        return reason + ": " + getMessage();
    }
}
