package rsuota.wire;

import java.util.regex.Pattern;

/**
 * MQTT topic names (docs/protocol.md). All QoS 1. Retained: desired, state, presence.
 * Broker ACLs confine a device to {@code rsu/v1/dev/<its id>/#}.
 */
public final class Topics {
    private Topics() {}

    public static final String PREFIX = "rsu/v1/dev/";
    public static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public static String desired(String id) { return topic(id, "desired"); }
    public static String cmd(String id) { return topic(id, "cmd"); }
    public static String state(String id) { return topic(id, "state"); }
    public static String events(String id) { return topic(id, "events"); }
    public static String presence(String id) { return topic(id, "presence"); }

    /** Subscription filters for the controller side. */
    public static final String ALL_STATE = PREFIX + "+/state";
    public static final String ALL_EVENTS = PREFIX + "+/events";
    public static final String ALL_PRESENCE = PREFIX + "+/presence";

    private static String topic(String id, String leaf) {
        if (id == null || !DEVICE_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("bad device id '" + id + "': letters, digits, . _ - (max 64)");
        }
        return PREFIX + id + "/" + leaf;
    }

    /** A parsed device topic: which device, which leaf. */
    public record DeviceTopic(String deviceId, String leaf) {}

    /** Parses {@code rsu/v1/dev/ID/LEAF}; returns null for anything else. */
    public static DeviceTopic parse(String topic) {
        if (topic == null || !topic.startsWith(PREFIX)) return null;
        String rest = topic.substring(PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash <= 0 || rest.indexOf('/', slash + 1) >= 0) return null;
        String id = rest.substring(0, slash);
        if (!DEVICE_ID.matcher(id).matches()) return null;
        return new DeviceTopic(id, rest.substring(slash + 1));
    }
}
