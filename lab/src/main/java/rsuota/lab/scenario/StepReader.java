package rsuota.lab.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import rsuota.lab.scenario.Scenario.Targets;

/**
 * Reads a scenario file's {@code timeline}: each step's id, trigger ({@code at} or {@code when}),
 * delay, target devices and action, refusing what no run could perform.
 */
final class StepReader {
    private StepReader() {}

    static List<Step> timeline(JsonFields root, ScenarioNames names) throws ScenarioException {
        List<Step> out = new ArrayList<>();
        List<JsonNode> list = root.list("timeline");
        Set<String> stepIds = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            JsonFields s = root.element("timeline", i, list.get(i));
            String id = s.text("id", "step-" + (i + 1));
            if (!stepIds.add(id)) throw s.error("id", "'" + id + "' is used by an earlier step");
            Step.Trigger trigger = trigger(s, names);
            Duration delay = s.duration("delay", Duration.ZERO);
            Targets targets = names.targets(s, "devices");
            Step.Action action = action(s, names);
            if (action.onDevices() && !s.has("devices")) throw s.error("devices", "is required for '" + action.verb() + "' (\"all\" or a list of ids)");
            s.done();
            out.add(new Step(id, trigger, delay, targets, action));
        }
        return out;
    }

    private static Step.Trigger trigger(JsonFields s, ScenarioNames names) throws ScenarioException {
        Duration at = s.duration("at", null);
        JsonFields w = s.object("when");
        if ((at == null) == (w == null)) throw s.error("at", "or 'when' is required, not both (e.g. \"at\": \"5s\")");
        if (at != null) return new Step.At(at);
        String device = w.text("device", null);
        String release = w.text("release", null);
        String state = w.requiredText("state");
        String phase = w.text("phase", null);
        w.done();
        Set<String> releases = names.releases();
        if (device != null) {
            names.device(w, "device", device);
            return new Step.DeviceIn(device, state);
        }
        if (phase == null && state.startsWith("hold:")) {
            if (release == null || !releases.contains(release)) throw w.error("release", "must name a release with a rollout " + releases);
            return new Step.HoldIn(release, state.substring(5));
        }
        if (release == null || !releases.contains(release)) throw w.error("release", "must name a release with a rollout " + releases + " (or give 'device')");
        return phase == null ? new Step.RolloutIn(release, state) : new Step.PhaseIn(release, phase, state);
    }

    private static Step.Path path(JsonFields s) throws ScenarioException {
        String p = s.text("path", "both");
        try {
            return Step.Path.valueOf(p.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw s.error("path", "'" + p + "' is not broker, bundles or both");
        }
    }

    private static Step.Action action(JsonFields s, ScenarioNames names) throws ScenarioException {
        String verb = s.requiredText("do");
        return switch (verb) {
            case "cut" -> {
                long every = s.size("every", 0);
                long at = s.size("atBytes", 0);
                if (every > 0 && at > 0) throw s.error("every", "and atBytes exclude each other");
                yield new Step.Cut(every, at, s.integer("times", at > 0 ? 1 : 0, 0, 1_000_000));
            }
            case "stall" -> new Step.Stall(s.requiredDuration("for"));
            case "throttle" -> {
                long rate = s.size("bytesPerSecond", 0);
                if (rate <= 0) throw s.error("bytesPerSecond", "is required and positive (e.g. \"64KiB\")");
                yield new Step.Throttle(rate, s.duration("for", null));
            }
            case "partition" -> new Step.Partition(path(s), s.duration("for", null));
            case "heal" -> new Step.Heal(path(s));
            case "flap" -> new Step.Flap(path(s), s.duration("down", Duration.ofSeconds(1)), s.duration("up", Duration.ofSeconds(1)),
                    s.integer("times", 3, 1, 1000));
            case "power-cut" -> new Step.PowerCut(s.duration("off", Duration.ofSeconds(1)), s.bool("inHandover", false));
            case "power-off" -> new Step.PowerOff();
            case "power-on" -> new Step.PowerOn();
            case "start" -> new Step.Start(names.release(s), s.text("reason", null));
            case "advance" -> new Step.Advance(names.release(s), s.text("reason", null));
            case "pause" -> new Step.Pause(names.release(s), s.requiredText("reason"));
            case "resume" -> new Step.Resume(names.release(s), s.requiredText("reason"));
            case "rollback" -> new Step.Rollback(names.release(s), s.text("scope", "rollout"), s.has("phase") ? s.integer("phase", 0, 0, 100) : null,
                    s.text("cohort", null), s.text("device", null), s.requiredText("reason"));
            case "degrade" -> {
                Step.Degrade d = new Step.Degrade(s.decimal("availability", null, 0, 1), s.decimal("lagMedianMs", null, 0, 1e7),
                        s.decimal("lagP95Ms", null, 0, 1e7), s.decimal("droppedRatio", null, 0, 1), s.requiredDuration("for"));
                if (d.availability() == null && d.lagMedianMs() == null && d.lagP95Ms() == null && d.droppedRatio() == null) {
                    throw s.error("availability", "or another KPI is required: what the units' application degrades to");
                }
                yield d;
            }
            case "extend" -> new Step.Extend(names.release(s), s.requiredDuration("by"), s.requiredText("reason"));
            case "clear" -> new Step.Clear(names.release(s), s.requiredText("device"), s.requiredText("reason"));
            case "restart-controller" -> new Step.RestartController(s.duration("off", Duration.ofSeconds(1)));
            case "technician" -> {
                String command = s.requiredText("command");
                if (!Step.Technician.COMMANDS.contains(command)) {
                    throw s.error("command", "'" + command + "' is not one of " + new java.util.TreeSet<>(Step.Technician.COMMANDS));
                }
                // any release of the scenario: the stick may carry one no rollout ships (Steps refuses one that was not built)
                String release = command.equals("install") ? s.requiredText("release") : null;
                String reason = s.text("reason", null);
                if ((command.equals("lock") || command.equals("rollback")) && reason == null) {
                    throw s.error("reason", "is required for rsu-agent " + command);
                }
                yield new Step.Technician(command, release, reason);
            }
            case "incident" -> new Step.Incident(s.requiredText("incident"), s.text("severity", "sev1"), s.text("state", "open"),
                    s.text("release", null), s.text("title", null));
            default -> throw s.error("do", "'" + verb + "' is not an action (cut, stall, throttle, partition, heal, flap, power-cut, power-off, "
                    + "power-on, start, advance, pause, resume, rollback, incident, degrade, extend, clear, restart-controller, technician)");
        };
    }
}
