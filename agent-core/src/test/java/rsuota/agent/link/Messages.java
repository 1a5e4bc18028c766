package rsuota.agent.link;

import java.time.Instant;
import java.util.Map;
import rsuota.wire.Action;
import rsuota.wire.MqttCommand;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.WireCodec;

/** Valid wire messages for tests. */
final class Messages {
    private Messages() {}

    static final String DIGEST = "a".repeat(64);

    static MqttDesiredState desired(long rev) {
        return new MqttDesiredState(MqttDesiredState.SCHEMA, rev, "2.0." + rev, "https://updates.example/r/2.0." + rev + ".rsub",
                DIGEST, Action.DOWNLOAD, null, null, "ro-1", Instant.parse("2026-11-27T10:00:00Z"));
    }

    /** An order written by a controller replica leading with {@code fencingToken}. */
    static byte[] desiredJson(long rev, long fencingToken) {
        MqttDesiredState d = desired(rev);
        return WireCodec.encode(new MqttDesiredState(d.schema(), d.rev(), d.release(), d.bundleUrl(), d.manifestDigest(), d.action(),
                d.activateAfter(), d.window(), d.rolloutId(), d.issuedAt(), null, fencingToken));
    }

    static byte[] desiredJson(long rev) {
        return WireCodec.encode(desired(rev));
    }

    static MqttCommand command(String id, String type, Instant expiresAt, Map<String, String> args) {
        return new MqttCommand(MqttCommand.SCHEMA, id, type, expiresAt, args);
    }
}
