package rsuota.fleet.diag;

import java.time.Instant;

/**
 * A diagnostics bundle asked of a device and (eventually) uploaded by it.
 *
 * @param id          store id
 * @param deviceId    the device
 * @param commandId   the collect-diagnostics command that asked for it
 * @param total       announced size (null until the first chunk)
 * @param received    bytes received so far (contiguous from 0)
 * @param expiresAt   after this the upload URL no longer accepts data
 * @param completedAt when the last byte arrived (null while incomplete)
 * @param ackedAt     when the device acknowledged the command
 * @param ackResult   what it said
 */
public record DiagnosticsRequest(long id, String deviceId, String commandId, Long total, long received, Instant requestedAt,
                                 Instant expiresAt, String requestedBy, Instant completedAt, Instant ackedAt, String ackResult) {
    public boolean complete() {
        return completedAt != null;
    }
}
