package rsuota.agent.diag;

/** A diagnostics bundle that could not be collected or uploaded, with a stable code. */
public final class DiagnosticsException extends Exception {

    public enum Code {
        /** The archive could not be written (disk full, permissions). */
        COLLECT_FAILED(true),
        /** The upload URL is missing or not http(s). */
        BAD_URL(false),
        /** The server refused the upload (4xx other than 416), e.g. an expired URL or a different archive (409). */
        UPLOAD_REJECTED(false),
        /** The server reported an offset outside the archive. */
        SERVER_OFFSET_INVALID(false),
        /** Network or server errors outlasted the retries; running the upload again resumes it. */
        UPLOAD_FAILED(true),
        INTERRUPTED(true);

        private final boolean transientFailure;

        Code(boolean transientFailure) {
            this.transientFailure = transientFailure;
        }

        public boolean isTransient() {
            return transientFailure;
        }
    }

    private final Code code;

    public DiagnosticsException(Code code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    public DiagnosticsException(Code code, String message, Throwable cause) {
        super(code + ": " + message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
