package rsuota.lab.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import rsuota.lab.control.LabController;
import rsuota.lab.control.Releases;
import rsuota.lab.control.Rest;
import rsuota.lab.device.SimulatedDevice;
import rsuota.lab.scenario.Step;
import rsuota.lab.scenario.Units;

/**
 * Performs the timeline's steps: faults and power on the devices they name, operator actions over
 * the controller's REST API with the role a person would need (release manager: start, advance,
 * resume; operator: pause, rollback, incidents). Each returns what it did, in words, for the timeline.
 */
final class Steps {
    private final LabController controller;
    private final Fleet fleet;
    private final Map<String, Long> rolloutIds;
    private final List<RunReport.Cohort> cohorts;
    private final Map<String, Releases.Built> built;

    Steps(LabController controller, Fleet fleet, Map<String, Long> rolloutIds, List<RunReport.Cohort> cohorts, Map<String, Releases.Built> built) {
        this.controller = controller;
        this.fleet = fleet;
        this.rolloutIds = rolloutIds;
        this.cohorts = cohorts;
        this.built = built;
    }

    static String releaseOf(Step.Action a) {
        if (a instanceof Step.Start x) return x.release();
        if (a instanceof Step.Advance x) return x.release();
        if (a instanceof Step.Pause x) return x.release();
        if (a instanceof Step.Resume x) return x.release();
        if (a instanceof Step.Rollback x) return x.release();
        if (a instanceof Step.Extend x) return x.release();
        if (a instanceof Step.Clear x) return x.release();
        if (a instanceof Step.Incident x) return x.release() == null ? "lab" : x.release();
        return "lab";
    }

    /** Performs one step; returns what it did, in words. */
    String apply(Step st) throws IOException {
        Step.Action a = st.action();
        if (a instanceof Step.Technician t) {
            List<String> said = new java.util.ArrayList<>();
            for (SimulatedDevice d : fleet.select(st.devices())) said.add(d.id() + ": " + technician(t, d));
            return "technician: rsu-agent " + t.command() + (t.release() != null ? " " + t.release() + ".rsub" : "") + " (" + String.join("; ", said) + ")";
        }
        if (a.onDevices()) {
            List<SimulatedDevice> targets = fleet.select(st.devices());
            for (SimulatedDevice d : targets) applyToDevice(a, d);
            return describeDeviceAction(a) + " on " + st.devices();
        }
        Rest rm = controller.releaseManager();
        Rest op = controller.operator();
        if (a instanceof Step.Start x) {
            rm.post(rollout(x.release()) + "/start", reason(x.reason(), "lab: start"));
            return "release manager starts the rollout of " + x.release();
        }
        if (a instanceof Step.Advance x) {
            rm.post(rollout(x.release()) + "/advance", reason(x.reason(), "lab: exit criteria met, approved"));
            return "release manager approves the next phase of " + x.release();
        }
        if (a instanceof Step.Pause x) {
            op.post(rollout(x.release()) + "/pause", reason(x.reason(), null));
            return "operator pauses " + x.release() + ": " + x.reason();
        }
        if (a instanceof Step.Resume x) {
            JsonNode status = controller.rolloutStatus(rolloutIds.get(x.release()));
            ArrayNode ack = Rest.object().arrayNode();
            for (JsonNode pe : status.path("pauses")) if (!pe.hasNonNull("resumedAt")) ack.add(pe.path("id").asLong());
            ObjectNode body = Rest.object().put("reason", x.reason());
            body.set("acknowledge", ack);
            rm.post(rollout(x.release()) + "/resume", body);
            return "release manager resumes " + x.release() + " acknowledging pause event(s) " + ack + ": " + x.reason();
        }
        if (a instanceof Step.Rollback x) {
            ObjectNode body = Rest.object().put("scope", x.scope()).put("reason", x.reason());
            if (x.phase() != null) body.put("phase", x.phase());
            if (x.device() != null) body.put("device", x.device());
            if (x.cohort() != null) body.put("cohort", cohortId(x.release(), x.cohort()));
            op.post(rollout(x.release()) + "/rollback", body);
            return "operator rolls back " + x.release() + " (" + x.scope() + "): " + x.reason();
        }
        if (a instanceof Step.Extend x) {
            rm.post(rollout(x.release()) + "/extend", Rest.object().put("by", Units.config(x.by())).put("reason", x.reason()));
            return "release manager extends the observation of " + x.release() + " by " + Units.human(x.by()) + ": " + x.reason();
        }
        if (a instanceof Step.Clear x) {
            op.post(rollout(x.release()) + "/devices/" + x.device() + "/clear", Rest.object().put("reason", x.reason()));
            return "operator clears " + x.device() + "'s flag in the rollout of " + x.release() + ": " + x.reason();
        }
        if (a instanceof Step.RestartController x) {
            controller.restart(x.off());
            return "the controller stopped and started again over its store after " + Units.human(x.off());
        }
        Step.Incident x = (Step.Incident) a;
        ObjectNode body = Rest.object().put("id", x.id()).put("severity", x.severity()).put("state", x.state());
        if (x.release() != null) body.put("release", x.release());
        if (x.title() != null) body.put("title", x.title());
        op.post("/api/v1/incidents", body);
        return "incident " + x.id() + " (" + x.severity() + ", " + x.state() + ")" + (x.release() == null ? "" : " against " + x.release())
                + (x.title() == null ? "" : ": " + x.title());
    }

    /** The real rsu-agent CLI with the unit's config: it reaches the running daemon through its control socket. */
    private String technician(Step.Technician t, SimulatedDevice d) throws IOException {
        List<String> args = new java.util.ArrayList<>(List.of("--config", d.dir().resolve("agent.conf").toString(), t.command()));
        if (t.command().equals("install")) {
            Releases.Built b = built.get(t.release());
            if (b == null) throw new IOException("no built bundle of release " + t.release());
            args.add(b.bundle().toString());
            args.add("--download-only");
        }
        if (t.command().equals("activate")) args.add("--now");
        if (t.command().equals("rollback")) args.add("--yes");
        if (t.reason() != null) args.addAll(List.of("--reason", t.reason()));
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int rc = rsuota.agent.cli.RsuAgent.run(args.toArray(String[]::new), new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
        if (rc != 0) throw new IOException("rsu-agent " + t.command() + " on " + d.id() + " exited " + rc + ": " + err.toString().trim());
        String text = out.toString().trim();
        return text.isEmpty() ? "ok" : text.lines().reduce((x, y) -> y).orElse(text);
    }

    private String rollout(String release) {
        return "/api/v1/rollouts/" + rolloutIds.get(release);
    }

    private static ObjectNode reason(String given, String dflt) {
        String r = given != null ? given : dflt;
        return r == null ? Rest.object() : Rest.object().put("reason", r);
    }

    private long cohortId(String release, String name) throws IOException {
        for (RunReport.Cohort c : cohorts) if (c.release().equals(release) && c.name().equals(name)) return c.id();
        throw new IOException("no cohort '" + name + "' of release " + release);
    }

    private static void applyToDevice(Step.Action a, SimulatedDevice d) {
        if (a instanceof Step.Cut c) d.network().cut(c);
        else if (a instanceof Step.Stall x) d.network().stall(x.duration());
        else if (a instanceof Step.Throttle x) d.network().throttle(x.bytesPerSecond(), x.duration());
        else if (a instanceof Step.Partition x) d.network().partition(x.path(), x.duration());
        else if (a instanceof Step.Heal x) d.network().heal(x.path());
        else if (a instanceof Step.Flap x) d.network().flap(x.path(), x.down(), x.up(), x.times());
        else if (a instanceof Step.PowerCut x && x.inHandover()) d.powerCutInHandover(x.off());
        else if (a instanceof Step.PowerCut x) d.powerCut(x.off());
        else if (a instanceof Step.PowerOff) d.powerOff();
        else if (a instanceof Step.PowerOn) d.powerOn();
        else if (a instanceof Step.Degrade x) d.app().override(new rsuota.wire.MqttState.Kpis(
                x.availability() == null ? Double.NaN : x.availability(), x.lagMedianMs() == null ? Double.NaN : x.lagMedianMs(),
                x.lagP95Ms() == null ? Double.NaN : x.lagP95Ms(), x.droppedRatio() == null ? Double.NaN : x.droppedRatio()), x.duration());
    }

    private static String describeDeviceAction(Step.Action a) {
        if (a instanceof Step.Cut c) {
            if (c.every() > 0) return "cut the bundle path every " + Units.bytes(c.every()) + (c.times() > 0 ? " (" + c.times() + " times)" : "");
            if (c.at() > 0) return "cut the bundle path once " + Units.bytes(c.at()) + " from now";
            return "cut the bundle connections now";
        }
        if (a instanceof Step.Stall x) return "stall the bundle path for " + Units.human(x.duration());
        if (a instanceof Step.Throttle x) return "throttle the bundle path to " + Units.bytes(x.bytesPerSecond()) + "/s"
                + (x.duration() == null ? "" : " for " + Units.human(x.duration()));
        if (a instanceof Step.Partition x) return "partition " + path(x.path()) + (x.duration() == null ? "" : " for " + Units.human(x.duration()));
        if (a instanceof Step.Heal x) return "heal " + path(x.path());
        if (a instanceof Step.Flap x) return "flap " + path(x.path()) + " " + x.times() + " times (down " + Units.human(x.down()) + ", up "
                + Units.human(x.up()) + ")";
        if (a instanceof Step.PowerCut x && x.inHandover()) return "power cut armed for the next reboot handover, off for " + Units.human(x.off());
        if (a instanceof Step.PowerCut x) return "power cut, off for " + Units.human(x.off());
        if (a instanceof Step.PowerOff) return "power off";
        if (a instanceof Step.Degrade x) return "application KPIs degraded for " + Units.human(x.duration()) + " (availability "
                + (x.availability() == null ? "as is" : x.availability()) + ")";
        return "power on";
    }

    private static String path(Step.Path p) {
        return switch (p) {
            case BROKER -> "the broker path";
            case BUNDLES -> "the bundle path";
            case BOTH -> "both paths";
        };
    }
}
