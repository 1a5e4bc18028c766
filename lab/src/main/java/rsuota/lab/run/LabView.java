package rsuota.lab.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import rsuota.lab.device.SimulatedDevice;

/** Something that shows a run as it goes (the terminal, or nothing in tests). */
public interface LabView {

    /**
     * The state of a run at one moment.
     *
     * @param rollouts  release to the controller's rollout status
     * @param cohortOf  device to its "release/cohort" memberships
     * @param unmet     expectations not met yet
     * @param timeline  the whole run so far (a plain log prints what is new)
     */
    record Snapshot(String scenario, String title, Duration elapsed, Duration timeLimit, Map<String, SimulatedDevice.Status> devices,
                    Map<String, List<String>> cohortOf, Map<String, JsonNode> rollouts, Map<String, long[]> bytes, List<Timeline.Event> recent,
                    List<String> unmet, Timeline timeline) {}

    /** Called about every 200 ms while the run goes. */
    void update(Snapshot s);

    /** A line worth showing at once (setup progress). */
    void note(String line);

    /** The run is over: leave the terminal tidy. */
    void finish();

    LabView NONE = new LabView() {
        public void update(Snapshot s) {}

        public void note(String line) {}

        public void finish() {}
    };
}
