package rsuota.agent.control;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import rsuota.agent.AgentExit;
import rsuota.agent.update.EngineState;
import rsuota.agent.update.Progress;
import rsuota.agent.update.UpdateEngine;
import rsuota.agent.update.UpdateState;

/**
 * The words install, activate and rollback end with, whoever drove the engine (the CLI on the state
 * directory, or the daemon for a CLI on its socket): one wording, so the technician sees the same
 * lines and exit statuses either way.
 */
public final class Outcomes {
    private Outcomes() {}

    /** A verified release (download only, or activation ordered separately), with the measured speed. */
    public static List<String> verified(EngineState end, Progress p, double seconds) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.US, "verified: release %s on slot %s%s", end.target().release(), end.target().slot(),
                end.order() != null && end.order().downloadOnly() ? " (download only; activation is a separate order)" : ""));
        if (p != null && p.payloadBytes() > 0 && seconds > 0) {
            // What a technician compares with the link's speed; scripts/bench download reads it too.
            lines.add(String.format(Locale.US, "payload %d bytes verified on the slot in %.2f s (%.0f MiB/s; %d bytes fetched)",
                    p.payloadBytes(), seconds, p.payloadBytes() / 1048576.0 / seconds, p.bytesFetched()));
        }
        return lines;
    }

    /** Ending of install/activate/rollback: a reboot was requested, or activation waits, or it failed. */
    public static List<String> afterActivationStep(UpdateEngine engine, EngineState end, String waitingFor) throws ControlFailure {
        if (engine.rebootRequested()) {
            if (end.state() == UpdateState.ROLLING_BACK) {
                return List.of(String.format(Locale.US, "rollback to slot %s set; rebooting", end.activation().previousSlot()));
            }
            return List.of(String.format(Locale.US, "verified: release %s on slot %s", end.target().release(), end.target().slot()),
                    String.format(Locale.US, "trial boot of slot %s set (%d tries); rebooting", end.target().slot(), engine.parts().bootTries()));
        }
        if (end.state() == UpdateState.AWAITING_WINDOW) {
            return List.of(String.format(Locale.US, "verified: release %s on slot %s; activation is waiting: %s", end.target().release(), end.target().slot(),
                    waitingFor));
        }
        EngineState.ErrorRecord e = end.lastError();
        throw new ControlFailure(e == null ? "FAILED" : e.code(), AgentExit.FAILED, e == null ? end.state().reported() : e.message());
    }
}
