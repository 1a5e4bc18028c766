package rsuota.fleet.rollout;

import java.time.Instant;
import java.util.Map;

/**
 * Something a human must look at now: stored, and posted to the configured webhook.
 *
 * @param kind "rollback_overdue" (a device missed its rollback deadline)
 */
public record Alert(long id, Instant at, String kind, Long rolloutId, String deviceId, Map<String, Object> detail,
                    Instant deliveredAt, String delivery) {
    public static final String ROLLBACK_OVERDUE = "rollback_overdue";

    public Alert {
        detail = Map.copyOf(detail);
    }
}
