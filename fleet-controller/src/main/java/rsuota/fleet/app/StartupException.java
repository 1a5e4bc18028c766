package rsuota.fleet.app;

/** The controller cannot start or initialise as asked; the message says what to do instead. */
public class StartupException extends Exception {
    public StartupException(String message) {
        super(message);
    }

    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
