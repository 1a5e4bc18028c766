package rsuota.bundletool;

import rsuota.cli.ExitStatus;

/**
 * rsu-bundle exit codes: one per kind of failure, stable for scripts (docs/bundle-format.md).
 * 0, 1 and 2 follow the convention shared with rsu-agent and fleetctl ({@link ExitStatus}); the
 * --help footer is generated from this table.
 */
enum ExitCodes implements ExitStatus {
    OK(ExitStatus.OK, "success"),
    /** Unexpected internal error (a bug: please report it with the stack trace from --debug). */
    INTERNAL(ExitStatus.INTERNAL, "internal error"),
    /** Bad command line. */
    USAGE(ExitStatus.USAGE, "usage error"),
    /** verify: the bundle was refused; stderr has REASON_CODE: message. */
    REFUSED(3, "verify refused the bundle (REASON_CODE: message on stderr)"),
    /** A file could not be read or written. */
    IO(4, "file could not be read or written"),
    /** A key or certificate file cannot be used. */
    KEY_MATERIAL(5, "key or certificate unusable"),
    /** A bundle (or image) given to create/inspect/manifest/attach is malformed. */
    BAD_BUNDLE(6, "malformed bundle or image"),
    /** signature: the bundle is unsigned, there is nothing to export. */
    NO_SIGNATURE(7, "bundle has no signature");

    private final int code;
    private final String meaning;

    ExitCodes(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    @Override
    public int code() {
        return code;
    }

    @Override
    public String meaning() {
        return meaning;
    }
}
