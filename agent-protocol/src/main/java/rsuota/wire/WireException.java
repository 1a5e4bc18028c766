package rsuota.wire;

/** A message refused by {@link WireCodec}: never acted on, logged with this reason. */
public class WireException extends Exception {
    public enum Code { TOO_LARGE, MALFORMED, UNKNOWN_SCHEMA, INVALID }

    private final Code code;

    public WireException(Code code, String message) {
        super(message);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
