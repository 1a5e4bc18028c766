package rsuota.lab.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;

/**
 * The names a scenario's steps and expectations may use: the fleet's device ids and the releases
 * that have a rollout. Each check refuses an unknown name with the field that holds it.
 */
record ScenarioNames(Set<String> devices, Set<String> releases) {
    /** {@code "all"} or a list of the fleet's ids; absent or null: no devices. */
    Scenario.Targets targets(JsonFields s, String key) throws ScenarioException {
        JsonNode n = s.raw(key);
        if (n == null || n.isNull()) return new Scenario.Targets(false, List.of());
        if (n.isTextual() && n.textValue().equals("all")) return Scenario.Targets.ALL;
        List<String> ids = s.strings(key);
        for (String id : ids) device(s, key, id);
        return new Scenario.Targets(false, ids);
    }

    /** The required {@code release} field, naming a release with a rollout. */
    String release(JsonFields s) throws ScenarioException {
        String r = s.requiredText("release");
        rolloutRelease(s, "release", r);
        return r;
    }

    /** Refuses a device id that is not in the fleet. */
    void device(JsonFields f, String key, String id) throws ScenarioException {
        if (!devices.contains(id)) throw f.error(key, "'" + id + "' is not in the fleet");
    }

    /** Refuses a release that has no rollout in the scenario. */
    void rolloutRelease(JsonFields f, String key, String release) throws ScenarioException {
        if (!releases.contains(release)) throw f.error(key, "'" + release + "' has no rollout in this scenario " + releases);
    }

    /** Refuses a key of an object keyed by release ({@code "rollouts": {"2.0": ...}}) that has no rollout. */
    void rolloutKey(JsonFields f, String key) throws ScenarioException {
        if (!releases.contains(key)) throw f.error(key, "is not a release with a rollout " + releases);
    }
}
