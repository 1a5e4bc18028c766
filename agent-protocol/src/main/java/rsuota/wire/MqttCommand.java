package rsuota.wire;

import java.time.Instant;
import java.util.Map;

/**
 * One-off command on {@code rsu/v1/dev/{id}/cmd} (not retained). Refused when expired or when its
 * id was seen before; acknowledged on events either way.
 *
 * @param schema    {@value #SCHEMA}
 * @param id        unique command id
 * @param type      e.g. "collect-diagnostics"
 * @param expiresAt after this instant the device refuses it
 * @param args      type-specific arguments (e.g. uploadUrl)
 */
public record MqttCommand(String schema, String id, String type, Instant expiresAt, Map<String, String> args) {
    public static final String SCHEMA = "rsu.cmd/1";

    public MqttCommand {
        args = args == null ? Map.of() : Map.copyOf(args);
    }
}
