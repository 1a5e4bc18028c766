package rsuota.lab.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.lab.device.SimulatedDevice;
import rsuota.lab.scenario.Scenario;
import rsuota.lab.scenario.Step;
import rsuota.lab.scenario.Units;

/**
 * Decides when each step of the scenario's timeline fires: once its trigger has held (a lab time,
 * a device, rollout, hold or phase state) and its delay has passed. It fires each step once, through
 * {@link Steps}, and keeps which fired when and which failed.
 */
final class StepSchedule {
    private static final Logger log = LoggerFactory.getLogger(StepSchedule.class);

    private final Scenario s;
    private final Steps steps;
    private final Clock clock;
    private final Timeline timeline;
    private final Map<String, JsonNode> rollouts;
    private final List<String> stepFailures = new ArrayList<>();
    private final Map<String, Instant> triggeredAt = new HashMap<>();
    private final Map<String, Instant> fired = new LinkedHashMap<>();

    /** @param rollouts release -> the rollout's latest status, which rollout and phase triggers look at */
    StepSchedule(Scenario s, Steps steps, Clock clock, Timeline timeline, Map<String, JsonNode> rollouts) {
        this.s = s;
        this.steps = steps;
        this.clock = clock;
        this.timeline = timeline;
        this.rollouts = rollouts;
    }

    /** Step id -> when it fired. */
    Map<String, Instant> fired() {
        return fired;
    }

    /** One line per step that failed: a failed step fails the run. */
    List<String> failures() {
        return stepFailures;
    }

    /** One line per step that has not fired yet, with what it waits for. */
    List<String> waiting() {
        List<String> out = new ArrayList<>();
        for (Step st : s.timeline()) {
            if (!fired.containsKey(st.id())) out.add("step " + st.id() + " (" + st.action().verb() + ") has not happened: waiting for " + describe(st.trigger()));
        }
        return out;
    }

    /** Fires every step whose trigger has held for its delay, now. */
    void fire(Map<String, SimulatedDevice.Status> devices) {
        Instant now = clock.instant();
        for (Step st : s.timeline()) {
            if (fired.containsKey(st.id())) continue;
            if (!triggeredAt.containsKey(st.id()) && holds(st.trigger(), devices)) triggeredAt.put(st.id(), now);
            Instant t = triggeredAt.get(st.id());
            if (t != null && !now.isBefore(t.plus(st.delay()))) {
                fired.put(st.id(), now);
                try {
                    String what = steps.apply(st);
                    timeline.add("step", st.action().onDevices() ? st.devices().toString() : Steps.releaseOf(st.action()), st.id() + ": " + what);
                } catch (IOException | RuntimeException e) {
                    stepFailures.add("step " + st.id() + " (" + st.action().verb() + ") failed: " + e.getMessage());
                    timeline.add("step", "lab", "step " + st.id() + " failed: " + e.getMessage());
                    log.error("step {} failed", st.id(), e);
                }
            }
        }
    }

    private boolean holds(Step.Trigger t, Map<String, SimulatedDevice.Status> devices) {
        if (t instanceof Step.At a) return timeline.elapsed().compareTo(a.at()) >= 0;
        if (t instanceof Step.DeviceIn d) {
            SimulatedDevice.Status st = devices.get(d.device());
            return st != null && st.agentUp() && d.state().equals(st.state());
        }
        if (t instanceof Step.RolloutIn r) {
            JsonNode st = rollouts.get(r.release());
            return st != null && st.path("state").asText().equals(r.state());
        }
        if (t instanceof Step.HoldIn h) {
            JsonNode st = rollouts.get(h.release());
            return st != null && st.path("hold").path("kind").asText().equals(h.kind());
        }
        Step.PhaseIn p = (Step.PhaseIn) t;
        JsonNode phase = Expectations.phase(rollouts.get(p.release()), p.phase());
        return phase != null && phase.path("state").asText().equals(p.state());
    }

    private static String describe(Step.Trigger t) {
        if (t instanceof Step.At a) return "lab time " + Units.human(a.at());
        if (t instanceof Step.DeviceIn d) return d.device() + " to be " + d.state();
        if (t instanceof Step.RolloutIn r) return "rollout " + r.release() + " to be " + r.state();
        if (t instanceof Step.HoldIn h) return "rollout " + h.release() + " to wait for " + h.kind();
        Step.PhaseIn p = (Step.PhaseIn) t;
        return "phase " + p.phase() + " of " + p.release() + " to be " + p.state();
    }
}
