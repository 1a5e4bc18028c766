package rsuota.lab.scenario;

/** A scenario file that cannot be run as written; the message names the file, the field and what is expected. */
public final class ScenarioException extends Exception {
    public ScenarioException(String message) {
        super(message);
    }

    public ScenarioException(String message, Throwable cause) {
        super(message, cause);
    }
}
