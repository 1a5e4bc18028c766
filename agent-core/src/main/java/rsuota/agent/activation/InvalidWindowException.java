package rsuota.agent.activation;

/**
 * A maintenance window text that does not parse. The message quotes the whole text, names the
 * part that is wrong and shows the expected form.
 */
public final class InvalidWindowException extends IllegalArgumentException {
    public InvalidWindowException(String message) {
        super(message);
    }
}
