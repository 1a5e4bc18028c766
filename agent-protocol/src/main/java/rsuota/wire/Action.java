package rsuota.wire;

/** What the controller wants a device to do with the release named in the desired state. */
public enum Action {
    /** Fetch and verify into the inactive slot; no service impact. */
    DOWNLOAD,
    /** Download if needed, then activate inside the maintenance window. */
    ACTIVATE,
    /** Return to the previous stable release. */
    ROLLBACK
}
