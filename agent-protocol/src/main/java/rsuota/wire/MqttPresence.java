package rsuota.wire;

import java.time.Instant;

/** Retained on {@code rsu/v1/dev/{id}/presence}; the Last Will says {@code offline}. */
public record MqttPresence(String schema, String status, Instant at) {
    public static final String SCHEMA = "rsu.presence/1";
    public static final String ONLINE = "online";
    public static final String OFFLINE = "offline";
}
