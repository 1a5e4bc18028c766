package rsuota.fleet.cli;

/** A command failed; {@link #exitCode()} is what the process exits with, the message its one stderr line. */
public final class CliFailure extends Exception {
    private final int exitCode;

    public CliFailure(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CliFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
