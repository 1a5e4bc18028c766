package rsuota.agent.link;

import rsuota.wire.MqttDesiredState;

/**
 * Receives desired states after reconciliation: only revs newer than the last one accepted
 * (persisted across restarts) reach it; older or repeated ones are ignored before.
 */
public interface DesiredStateListener {
    void onDesired(MqttDesiredState desired);
}
