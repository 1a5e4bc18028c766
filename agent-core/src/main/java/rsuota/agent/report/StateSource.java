package rsuota.agent.report;

import rsuota.wire.MqttState;

/** The engine's current snapshot for the retained state topic (heartbeat and every transition). */
public interface StateSource {
    MqttState snapshot();
}
