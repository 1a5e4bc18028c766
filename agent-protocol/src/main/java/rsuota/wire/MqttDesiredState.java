package rsuota.wire;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/**
 * Retained on {@code rsu/v1/dev/{id}/desired}. The newest {@code rev} wins; a device ignores an
 * older or repeated rev, so a box offline for a week converges on reconnect.
 *
 * @param schema         {@value #SCHEMA}
 * @param rev            monotonic per device
 * @param release        release version
 * @param bundleUrl      where the bundle is (HTTP Range)
 * @param manifestDigest SHA-256 hex of the manifest bytes: binds the download to one bundle
 * @param action         download, activate or rollback
 * @param activateAfter  earliest activation instant, or null
 * @param window         maintenance window narrowing the device's own, e.g. "Mon-Fri 01:00-04:00 Europe/Berlin", or null
 * @param rolloutId      the rollout this order belongs to (reported back in events), or null
 * @param issuedAt       when the controller wrote it
 * @param bandwidthCap   the rollout's download cap in bytes per second ({@link Bandwidth}'s range), replacing the
 *                       unit's own cap and schedule for this download; null (and then absent from the JSON, so
 *                       agents that predate it still read every uncapped order): the unit's own
 * @param fencingToken   the leader lease's fencing token when this order was written (several controller replicas on
 *                       one store); a device refuses an order with a lower token than the highest it accepted, so a
 *                       deposed leader's late publish cannot replace a newer leader's order. Null (absent) from a
 *                       sole controller, which has no lease
 */
public record MqttDesiredState(String schema, long rev, String release, String bundleUrl, String manifestDigest,
                               Action action, Instant activateAfter, String window, String rolloutId, Instant issuedAt,
                               @JsonInclude(JsonInclude.Include.NON_NULL) Long bandwidthCap,
                               @JsonInclude(JsonInclude.Include.NON_NULL) Long fencingToken) {
    public static final String SCHEMA = "rsu.desired/1";

    /** An order from a sole controller (no fencing token). */
    public MqttDesiredState(String schema, long rev, String release, String bundleUrl, String manifestDigest,
                            Action action, Instant activateAfter, String window, String rolloutId, Instant issuedAt,
                            Long bandwidthCap) {
        this(schema, rev, release, bundleUrl, manifestDigest, action, activateAfter, window, rolloutId, issuedAt, bandwidthCap, null);
    }

    /** An order without a bandwidth cap of its own. */
    public MqttDesiredState(String schema, long rev, String release, String bundleUrl, String manifestDigest,
                            Action action, Instant activateAfter, String window, String rolloutId, Instant issuedAt) {
        this(schema, rev, release, bundleUrl, manifestDigest, action, activateAfter, window, rolloutId, issuedAt, null, null);
    }
}
