package rsuota.bundletool;

/** rsu-bundle exit codes: one per kind of failure, stable for scripts. */
final class ExitCodes {
    private ExitCodes() {}

    static final int OK = 0;
    /** Unexpected internal error (a bug: please report it with the stack trace from --debug). */
    static final int INTERNAL = 1;
    /** Bad command line. */
    static final int USAGE = 2;
    /** verify: the bundle was refused; stderr has REASON_CODE: message. */
    static final int REFUSED = 3;
    /** A file could not be read or written. */
    static final int IO = 4;
    /** A key or certificate file cannot be used. */
    static final int KEY_MATERIAL = 5;
    /** A bundle (or image) given to create/inspect/manifest/attach is malformed. */
    static final int BAD_BUNDLE = 6;
    /** signature: the bundle is unsigned, there is nothing to export. */
    static final int NO_SIGNATURE = 7;
}
