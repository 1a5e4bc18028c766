package rsuota.hal.gpio;

/** A pin could not be opened, read or written; the message names the pin and the backend. */
public final class GpioException extends Exception {
    public GpioException(String message) {
        super(message);
    }

    public GpioException(String message, Throwable cause) {
        super(message, cause);
    }
}
