package rsuota.fleet.domain;

import java.time.Instant;

/**
 * A registered device.
 *
 * @param record        identity and placement
 * @param lastSeen      when the controller last heard from it (null: imported, never reported)
 * @param reportedState the last state snapshot as JSON text (null: none yet)
 * @param createdAt     first registration
 * @param updatedAt     last change of any field
 */
public record Device(DeviceRecord record, Instant lastSeen, String reportedState, Instant createdAt, Instant updatedAt) {
    public String id() {
        return record.id();
    }

    public String variant() {
        return record.variant();
    }
}
