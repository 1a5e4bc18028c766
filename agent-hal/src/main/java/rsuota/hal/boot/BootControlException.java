package rsuota.hal.boot;

/** A bootloader environment could not be read or written; the message names backend and cause. */
public class BootControlException extends Exception {
    public BootControlException(String message) {
        super(message);
    }

    public BootControlException(String message, Throwable cause) {
        super(message, cause);
    }
}
